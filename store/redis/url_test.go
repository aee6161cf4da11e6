package redis

import "testing"

func TestLogMaxLenFromURL(t *testing.T) {
	for _, c := range []struct {
		in, out string
		n       int64
		bad     bool
	}{
		{"redis://h:6379/0", "redis://h:6379/0", 0, false},
		{"redis://h:6379/0?log-max-len=5000", "redis://h:6379/0", 5000, false},
		{"rediss://u:p@h:6379?log-max-len=-1", "rediss://u:p@h:6379", -1, false},
		{"redis://h:6379?log-max-len=x", "", 0, true},
	} {
		out, n, err := logMaxLen(c.in)
		if (err != nil) != c.bad || out != c.out || n != c.n {
			t.Errorf("logMaxLen(%q) = %q, %d, %v", c.in, out, n, err)
		}
	}
}
