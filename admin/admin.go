// Package admin serves a daemon's admin HTTP API: /metrics, /livez,
// /readyz, /v1/status, /v1/checkpoints, the raft membership operations
// and, for the embedded and memory stores, the /v1/kv
// client API that makes a single binary a usable regional KV store.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/store"
)

// Daemon is what the admin API needs of a region's daemon.
type Daemon interface {
	// Ready returns nil when NATS, the store and the raft group are usable.
	Ready() error
	// Status returns the JSON-encodable state of the daemon.
	Status() any
	// KV returns the store the /v1/kv API writes to, or nil when the
	// region's store is not one xdrd serves (Redis has its own clients).
	KV() store.Store
	// Namespace reports whether the topology knows a namespace.
	Namespace(name string) bool
	// RegionName turns an origin region ID into its name.
	RegionName(id uint8) string
	// Pause stops applying the link from source to this region; Resume
	// starts it again. Both fail when there is no such link.
	Pause(source string) error
	Resume(source string) error
	// Checkpoints returns the JSON-encodable committed cursors.
	Checkpoints() any
	// RemoveMember and AddMember change the region's raft group. Only the
	// leader can; other members return an error wrapping
	// checkpoint.ErrNotLeader.
	RemoveMember(id string) error
	AddMember(id, address string) error
}

// Handler returns the admin API of d, with metrics from g.
func Handler(d Daemon, g prometheus.Gatherer, log *zap.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := d.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, d.Status())
	})
	mux.HandleFunc("POST /v1/links/{source}/pause", func(w http.ResponseWriter, r *http.Request) {
		link(w, r, d.Pause, "paused")
	})
	mux.HandleFunc("POST /v1/links/{source}/resume", func(w http.ResponseWriter, r *http.Request) {
		link(w, r, d.Resume, "running")
	})
	mux.HandleFunc("GET /v1/checkpoints", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, d.Checkpoints())
	})
	mux.HandleFunc("POST /v1/members/remove", func(w http.ResponseWriter, r *http.Request) {
		member(w, r, func(id, _ string) error { return d.RemoveMember(id) }, false)
	})
	mux.HandleFunc("POST /v1/members/add", func(w http.ResponseWriter, r *http.Request) {
		member(w, r, d.AddMember, true)
	})
	kv := &kvAPI{d: d, log: log}
	mux.HandleFunc("GET /v1/kv/{namespace}/{set}/{key}", kv.get)
	mux.HandleFunc("PUT /v1/kv/{namespace}/{set}/{key}", kv.put)
	mux.HandleFunc("DELETE /v1/kv/{namespace}/{set}/{key}", kv.delete)
	return mux
}

// Server is a running admin API.
type Server struct {
	srv  *http.Server
	addr net.Addr
	done chan error
	once sync.Once
	err  error
}

// Serve listens on addr and serves h until Close.
func Serve(addr string, h http.Handler, log *zap.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr(),
		done: make(chan error, 1),
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	log.Info("admin api listening", zap.String("address", s.addr.String()))
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr.String() }

// Close stops the server, letting requests in flight finish for a while.
// Later calls return the first one's result.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		s.err = errors.Join(err, <-s.done)
	})
	return s.err
}

// link pauses or resumes the link from the request's source.
func link(w http.ResponseWriter, r *http.Request, do func(string) error, state string) {
	source := r.PathValue("source")
	if err := do(source); err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"source": source, "state": state})
}

// member adds or removes the member named by the request's id (and
// address) query parameters. A member that does not lead answers 409.
func member(w http.ResponseWriter, r *http.Request, do func(id, address string) error,
	needAddress bool) {
	id, address := r.URL.Query().Get("id"), r.URL.Query().Get("address")
	switch {
	case id == "":
		writeError(w, http.StatusBadRequest, errors.New("query parameter id: missing"))
		return
	case needAddress && address == "":
		writeError(w, http.StatusBadRequest, errors.New("query parameter address: missing"))
		return
	}
	err := do(id, address)
	switch {
	case errors.Is(err, checkpoint.ErrNotLeader):
		writeError(w, http.StatusConflict, err)
	case err != nil:
		writeError(w, http.StatusInternalServerError, err)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"id": id, "address": address})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
