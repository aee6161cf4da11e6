package topology

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/xdrd/xdrd/store/embedded/sizes"
)

// Messages about URLs quote them through url.URL.Redacted, and a URL
// that does not parse is not quoted at all: store URLs carry passwords,
// and validation output ends up in logs and CI transcripts.

// checkNATSURL returns what is wrong with a region's NATS URL. An empty
// URL selects the embedded default and is not checked.
func checkNATSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("malformed NATS URL: it does not parse as a URL")
	}
	bad := func(why string) error {
		return fmt.Errorf("malformed NATS URL %s: %s", quote(u.Redacted()), why)
	}

	if u.Scheme != "nats" && u.Scheme != "tls" {
		return bad("scheme must be nats or tls, as in nats://host:4222")
	}
	if u.Opaque != "" {
		return bad("want nats://host:port")
	}
	if err := checkHostPort(u.Host); err != nil {
		return bad(err.Error())
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return bad("want only a scheme, an optional user, a host and a port")
	}
	return nil
}

// checkStoreURL returns what is wrong with a region's store URL. An empty
// URL leaves the choice of store to the daemon and is not checked.
func checkStoreURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("malformed store URL: it does not parse as a URL")
	}
	bad := func(why string) error {
		return fmt.Errorf("malformed store URL %s: %s", quote(u.Redacted()), why)
	}
	extra := u.Opaque != "" || u.RawQuery != "" || u.Fragment != ""

	switch u.Scheme {
	case "memory":
		if extra || u.User != nil || u.Path != "" {
			return bad("want memory:// or memory://name")
		}
	case "embedded":
		if u.Opaque != "" || u.Fragment != "" || u.User != nil || u.Host != "" ||
			!strings.HasPrefix(u.Path, "/") {
			return bad("want an absolute path, as in embedded:///var/lib/xdrd/store")
		}
		if _, err := sizes.Parse(u.RawQuery); err != nil {
			return bad(err.Error())
		}
	case "redis", "rediss":
		if u.Opaque != "" || u.Fragment != "" {
			return bad("want " + u.Scheme + "://[user:password@]host:port[/db][?log-max-len=N]")
		}
		for key, vals := range u.Query() {
			if key != "log-max-len" {
				return bad(fmt.Sprintf("unknown option %q (valid: log-max-len)", key))
			}
			if _, err := strconv.ParseInt(vals[0], 10, 64); err != nil || len(vals) != 1 {
				return bad("log-max-len must be one whole number of change-log entries")
			}
		}
		if err := checkHostPort(u.Host); err != nil {
			return bad(err.Error())
		}
		db := strings.TrimPrefix(u.Path, "/")
		if _, err := strconv.ParseUint(db, 10, 31); db != "" && err != nil {
			return bad("the database must be a number, as in redis://host:6379/0")
		}
	case "":
		return errors.New("malformed store URL: want a URL such as " +
			"embedded:///var/lib/xdrd/store or redis://host:6379")
	default:
		return fmt.Errorf("unknown store scheme %s (valid: memory, embedded, redis, rediss)",
			quote(u.Scheme))
	}
	return nil
}

// checkHostPort accepts host:port with a non-empty host and a port from
// 1 to 65535. IPv6 hosts go in brackets, as net.JoinHostPort writes them.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("want host:port, the host is empty")
	}
	if strings.ContainsAny(host, " \t\r\n/\\@?#") {
		return fmt.Errorf("host %s is not a host name or address", quote(host))
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %s must be a number from 1 to 65535", quote(port))
	}
	return nil
}

// checkAlertmanagerURL returns what is wrong with an Alertmanager URL.
func checkAlertmanagerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("malformed alertmanager url: want http://host:port or https://host:port")
	}
	return nil
}
