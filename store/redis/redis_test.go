package redis

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store/redis/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// server is a redis-server process that a test started for itself.
type server struct {
	url  string
	addr string
}

// startServer starts a redis-server for the test; see redistest.Start.
func startServer(t testing.TB) *server {
	t.Helper()
	srv := redistest.Start(t)
	return &server{url: srv.URL, addr: srv.Addr}
}

// client returns a raw go-redis client of the server, closed at the end.
func (srv *server) client(t testing.TB) *goredis.Client {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// open opens the driver on the server, closed at the end.
func (srv *server) open(t testing.TB, region record.RegionID, opts Options) *Store {
	t.Helper()
	s, err := OpenOptions(srv.url, region, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
