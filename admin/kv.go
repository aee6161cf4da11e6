package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/xdrd/xdrd/record"
)

// maxBody bounds a PUT body: bins are limited to record.MaxBinsLen once
// encoded, and JSON is larger than msgpack, so allow some slack.
const maxBody = 2 * record.MaxBinsLen

type kvAPI struct {
	d   Daemon
	log *zap.Logger
}

// putBody is the body of PUT /v1/kv/...: the bins, and an optional time to
// live in seconds.
type putBody struct {
	Bins map[string]any `json:"bins"`
	TTL  int64          `json:"ttl"`
}

// got is the body of a GET answer.
type got struct {
	Bins       map[string]any `json:"bins"`
	Generation uint64         `json:"generation"`
	LUT        int64          `json:"lut"`
	Origin     string         `json:"origin"`
	Expiry     int64          `json:"expiry,omitempty"`
}

// address checks the request's namespace and that this daemon serves KV.
func (k *kvAPI) address(w http.ResponseWriter, r *http.Request) (ns, set, key string, ok bool) {
	if k.d.KV() == nil {
		writeError(w, http.StatusNotImplemented,
			errors.New("this region's store has its own client api; "+
				"/v1/kv serves embedded and memory stores"))
		return "", "", "", false
	}
	ns, set, key = r.PathValue("namespace"), r.PathValue("set"), r.PathValue("key")
	if !k.d.Namespace(ns) {
		writeError(w, http.StatusNotFound, fmt.Errorf("unknown namespace %q", ns))
		return "", "", "", false
	}
	return ns, set, key, true
}

func (k *kvAPI) get(w http.ResponseWriter, r *http.Request) {
	ns, set, key, ok := k.address(w, r)
	if !ok {
		return
	}
	v, found, err := k.d.KV().Get(r.Context(), ns, set, key)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	if !found || v.Tombstone || v.Expired(time.Now().Unix()) {
		writeError(w, http.StatusNotFound, errors.New("not found"))
		return
	}
	bins, err := record.DecodeBins(v.Bins)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, got{
		Bins: bins, Generation: uint64(v.Generation), LUT: int64(v.LUT),
		Origin: k.d.RegionName(uint8(v.Origin)), Expiry: v.Expiry,
	})
}

func (k *kvAPI) put(w http.ResponseWriter, r *http.Request) {
	ns, set, key, ok := k.address(w, r)
	if !ok {
		return
	}
	body, err := readPut(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	bins, err := record.EncodeBins(body.Bins)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	expiry := int64(0)
	if body.TTL > 0 {
		expiry = time.Now().Unix() + body.TTL
	}
	v, err := k.d.KV().Put(r.Context(), ns, set, key, bins, expiry)
	if err != nil {
		k.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"generation": uint64(v.Generation)})
}

func (k *kvAPI) delete(w http.ResponseWriter, r *http.Request) {
	ns, set, key, ok := k.address(w, r)
	if !ok {
		return
	}
	v, err := k.d.KV().Delete(r.Context(), ns, set, key)
	if err != nil {
		k.writeStoreError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"generation": uint64(v.Generation)})
}

func (k *kvAPI) writeStoreError(w http.ResponseWriter, err error) {
	if errors.Is(err, record.ErrInvalid) {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	k.log.Warn("kv write failed", zap.Error(err))
	writeError(w, http.StatusInternalServerError, err)
}

// readPut decodes a PUT body strictly: unknown fields are errors, and
// numbers become integers when they are whole and float64 otherwise, so
// that an integer bin stays an integer.
func readPut(w http.ResponseWriter, r *http.Request) (putBody, error) {
	var body putBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return body, fmt.Errorf("decode body: %w", err)
	}
	// More would miss a stray "}" or "]": only the end of the body will do.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return body, errors.New("decode body: trailing data after the object")
	}
	if body.Bins == nil {
		return body, errors.New(`body needs "bins"`)
	}
	if body.TTL < 0 {
		return body, errors.New(`"ttl" must not be negative`)
	}
	if body.TTL > math.MaxInt64-time.Now().Unix() {
		return body, errors.New(`"ttl" is too large: the expiry would overflow`)
	}
	for name, v := range body.Bins {
		n, err := numbers(v)
		if err != nil {
			return body, fmt.Errorf("bin %q: %w", name, err)
		}
		body.Bins[name] = n
	}
	return body, nil
}

// numbers turns every json.Number in v into int64, uint64 above
// math.MaxInt64, or float64. A number beyond float64's range is an error:
// it would be stored as an infinity, which JSON cannot carry back out.
func numbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(x.String(), 10, 64); err == nil {
			return u, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, errors.New("number out of range")
		}
		return f, nil
	case []any:
		for i := range x {
			n, err := numbers(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	case map[string]any:
		for k := range x {
			n, err := numbers(x[k])
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	}
	return v, nil
}
