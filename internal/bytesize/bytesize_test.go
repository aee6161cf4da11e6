package bytesize

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "65536": 65536, "64KiB": 64 << 10, "48MiB": 48 << 20, "2GiB": 2 << 30,
		"1024GiB": 1 << 40,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestParseRejects checks that every malformed size is refused with an
// error that quotes it.
func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "MiB", "-1MiB", "+1MiB", "1.5MiB", "1 MiB", "1mib", "1MB",
		"1TiB", "1025GiB", "9223372036854775807", "0x10"} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("Parse(%q): err %v, want one quoting the input", in, err)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, b := range []int64{0, 1, 1000, 1 << 10, 3 << 20, 5 << 30, 48<<20 + 1} {
		s := Format(b)
		if got, err := Parse(s); err != nil || got != b {
			t.Errorf("Parse(Format(%d) = %q) = %d, %v", b, s, got, err)
		}
	}
	if s := Format(48 << 20); s != "48MiB" {
		t.Errorf("Format(48 MiB) = %q", s)
	}
}

// FuzzParse checks that Parse never panics, never returns a negative or
// oversized value, and that whatever it accepts formats back to the same
// size.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "64KiB", "48MiB", "1GiB", "-1", "1.5MiB", "99999999999GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		if v < 0 || v > limit {
			t.Fatalf("Parse(%q) = %d, outside 0..1 TiB", s, v)
		}
		if again, err := Parse(Format(v)); err != nil || again != v {
			t.Fatalf("Parse(Format(%d)) = %d, %v", v, again, err)
		}
	})
}
