package record_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xdrd/xdrd/record"
)

func validVersion() record.Version {
	return record.Version{
		Namespace: "installs",
		Set:       "devices",
		Key:       "device-1",
		Meta:      record.Meta{Generation: 3, LUT: 1_700_000_000_000_000_000, Origin: 1},
		Bins:      []byte{0x81, 0xa1, 'n', 0x01},
	}
}

func TestVersionValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		modify func(v *record.Version)
	}{
		{"as built", func(v *record.Version) {}},
		{"empty set", func(v *record.Version) { v.Set = "" }},
		{"longest namespace", func(v *record.Version) {
			v.Namespace = strings.Repeat("n", record.MaxNameLen)
		}},
		{"longest set", func(v *record.Version) {
			v.Set = strings.Repeat("s", record.MaxNameLen)
		}},
		{"longest key", func(v *record.Version) { v.Key = strings.Repeat("k", record.MaxKeyLen) }},
		{"largest bins", func(v *record.Version) { v.Bins = make([]byte, record.MaxBinsLen) }},
		{"tombstone without bins", func(v *record.Version) { v.Tombstone, v.Bins = true, nil }},
		{"highest origin", func(v *record.Version) { v.Origin = 255 }},
		{"no bins", func(v *record.Version) { v.Bins = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validVersion()
			tt.modify(&v)
			if err := v.Validate(); err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestVersionValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		modify func(v *record.Version)
		want   string // the message must name what is wrong
	}{
		{"empty namespace", func(v *record.Version) { v.Namespace = "" }, "empty namespace"},
		{"long namespace", func(v *record.Version) {
			v.Namespace = strings.Repeat("n", record.MaxNameLen+1)
		}, "namespace of 64 bytes exceeds 63"},
		{"zero byte in namespace", func(v *record.Version) { v.Namespace = "in\x00stalls" },
			"namespace contains a zero byte"},
		{"long set", func(v *record.Version) {
			v.Set = strings.Repeat("s", record.MaxNameLen+1)
		}, "set of 64 bytes exceeds 63"},
		{"zero byte in set", func(v *record.Version) { v.Set = "\x00" },
			"set contains a zero byte"},
		{"empty key", func(v *record.Version) { v.Key = "" }, "empty key"},
		{"long key", func(v *record.Version) {
			v.Key = strings.Repeat("k", record.MaxKeyLen+1)
		}, "key of 1025 bytes exceeds 1024"},
		{"zero byte in key", func(v *record.Version) { v.Key = "a\x00b" },
			"key contains a zero byte"},
		{"origin 0", func(v *record.Version) { v.Origin = 0 }, "origin is 0"},
		{"tombstone with bins", func(v *record.Version) { v.Tombstone = true },
			"tombstone with bins"},
		{"oversized bins", func(v *record.Version) {
			v.Bins = make([]byte, record.MaxBinsLen+1)
		}, "bins of 524289 bytes exceed 524288"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validVersion()
			tt.modify(&v)
			err := v.Validate()
			if !errors.Is(err, record.ErrInvalid) {
				t.Fatalf("Validate() = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %q, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestMetaExpired(t *testing.T) {
	const now = 1_700_000_000
	tests := []struct {
		name string
		meta record.Meta
		want bool
	}{
		{"never expires", record.Meta{Expiry: 0}, false},
		{"expires later", record.Meta{Expiry: now + 1}, false},
		{"expires now", record.Meta{Expiry: now}, true},
		{"expired before", record.Meta{Expiry: now - 1}, true},
		{"expired long ago", record.Meta{Expiry: 1}, true},
		{"tombstone past expiry", record.Meta{Expiry: now - 1, Tombstone: true}, false},
		{"tombstone never expires", record.Meta{Tombstone: true}, false},
	}
	for _, tt := range tests {
		if got := tt.meta.Expired(now); got != tt.want {
			t.Errorf("%s: Expired(%d) = %v, want %v", tt.name, now, got, tt.want)
		}
	}
}
