package topology

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// aliasAllowance is how many values beyond the file's own size one parse
// may visit. Without aliases every value takes at least a byte of the file;
// aliases let a small file repeat a large subtree many times, and a walk
// that followed them without limit could take minutes on a few kilobytes.
const aliasAllowance = 1 << 16

// decoder walks a YAML node tree into a Topology, collecting a problem for
// every unknown key and mistyped value instead of stopping at the first.
type decoder struct {
	problems []Problem
	// budget is how many more values the walk may visit.
	budget int
	// given records each path that held a non-null value: true when it
	// decoded, false when it was the wrong type and already reported. The
	// checks use it to tell "absent" from "explicitly zero" and to stay
	// quiet about values that could not be decoded.
	given     presence
	exhausted bool
}

// presence maps a path to whether its value decoded; see decoder.given.
type presence map[string]bool

func (p presence) absent(path string) bool {
	_, ok := p[path]
	return !ok
}

func (p presence) ok(path string) bool { return p[path] }

// newDecoder returns a decoder for a file of size bytes.
func newDecoder(size int) *decoder {
	return &decoder{given: presence{}, budget: size + aliasAllowance}
}

// addf records a problem. Once the budget is spent it records nothing
// more, since the values the walk skipped would show up as missing.
func (d *decoder) addf(path, format string, args ...any) {
	if d.exhausted {
		return
	}
	if path == "" {
		path = "document"
	}
	d.problems = append(d.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// reject reports a value of the wrong shape and marks it as not decoded.
func (d *decoder) reject(path, format string, args ...any) {
	d.given[path] = false
	d.addf(path, format, args...)
}

// resolve follows aliases and charges the visit budget. It returns nil for
// a missing or null value, which every field treats as not given.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || d.exhausted {
		return nil
	}
	d.budget--
	if d.budget < 0 {
		d.exhausted = true
		d.problems = []Problem{{
			Path:    "document",
			Message: "aliases expand to too many values",
		}}
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	return n
}

// fields checks that n is a mapping whose keys are all in keys, each at
// most once, and returns the value node of every key present. It returns
// nil when n is absent or not a mapping.
func (d *decoder) fields(n *yaml.Node, path string, keys []string) map[string]*yaml.Node {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.reject(path, "must be a mapping, got %s", describe(n))
		return nil
	}
	d.given[path] = true

	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := d.resolve(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			d.addf(path, "a mapping key must be a plain name")
			continue
		}
		kp := join(path, pathKey(k.Value))
		switch {
		case k.ShortTag() == "!!merge":
			d.addf(kp, "merge keys are not supported")
		case !slices.Contains(keys, k.Value):
			d.addf(kp, "unknown key (valid keys: %s)", strings.Join(keys, ", "))
		case out[k.Value] != nil:
			d.addf(kp, "key appears more than once")
		default:
			out[k.Value] = n.Content[i+1]
		}
	}
	return out
}

// entry is fields for an element of a list, where null is a mistake
// rather than an absent value.
func (d *decoder) entry(n *yaml.Node, path string, keys []string) map[string]*yaml.Node {
	f := d.fields(n, path, keys)
	if f == nil && d.given.absent(path) {
		d.reject(path, "must be a mapping, got null")
	}
	return f
}

// list returns the elements of the sequence n, unresolved, or nil when n
// is absent or not a sequence.
func (d *decoder) list(n *yaml.Node, path string) []*yaml.Node {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.reject(path, "must be a list, got %s", describe(n))
		return nil
	}
	d.given[path] = true
	return n.Content
}

// scalar returns n resolved when it is a scalar, and reports it otherwise.
func (d *decoder) scalar(n *yaml.Node, path, want string) *yaml.Node {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.reject(path, "must be %s, got %s", want, describe(n))
		return nil
	}
	return n
}

// str accepts any scalar: a region called 2024 is still a name.
func (d *decoder) str(n *yaml.Node, path string) string {
	n = d.scalar(n, path, "a string")
	if n == nil {
		return ""
	}
	d.given[path] = true
	return n.Value
}

func (d *decoder) int(n *yaml.Node, path string) int {
	n = d.scalar(n, path, "an integer")
	if n == nil {
		return 0
	}
	if n.ShortTag() != "!!int" {
		d.reject(path, "must be an integer, got %s", describe(n))
		return 0
	}
	var v int
	if n.Decode(&v) != nil {
		d.reject(path, "integer %s is out of range", quote(n.Value))
		return 0
	}
	d.given[path] = true
	return v
}

func (d *decoder) bool(n *yaml.Node, path string) bool {
	n = d.scalar(n, path, "true or false")
	if n == nil {
		return false
	}
	var v bool
	if n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		d.reject(path, "must be true or false, got %s", describe(n))
		return false
	}
	d.given[path] = true
	return v
}

func (d *decoder) duration(n *yaml.Node, path string) Duration {
	n = d.scalar(n, path, `a duration such as "5s"`)
	if n == nil {
		return 0
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		// A bare number has no unit, and guessing seconds or
		// nanoseconds would be wrong for someone.
		d.reject(path, "duration %s has no unit: write it as in \"5s\" or \"1m30s\"", n.Value)
		return 0
	case "!!str":
	default:
		d.reject(path, `must be a duration such as "5s", got %s`, describe(n))
		return 0
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.reject(path, `invalid duration %s: write it as in "5s" or "1m30s"`, quote(n.Value))
		return 0
	}
	d.given[path] = true
	return Duration(v)
}

// strs decodes a list of strings. The result has one element per list
// entry, bad ones included as "", so that indices match paths.
func (d *decoder) strs(n *yaml.Node, path string) []string {
	items := d.list(n, path)
	if items == nil {
		return nil
	}
	out := make([]string, len(items))
	for i, item := range items {
		ip := index(path, i)
		out[i] = d.str(item, ip)
		if d.given.absent(ip) {
			d.reject(ip, "must be a string, got null")
		}
	}
	return out
}

// describe names the kind of a value for a type mismatch. It does not
// quote the value, which may be a password in a mistyped URL.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	}
	// A tag is the file's own text and may hold any character; quoted, it
	// cannot break the one-line-per-problem output.
	return "a value tagged " + strconv.Quote(n.ShortTag())
}

// pathKey writes a key for a path, quoted unless it is a plain word, so
// that a key holding a newline or a dot cannot garble the report.
func pathKey(key string) string {
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_') {
			return quote(key)
		}
	}
	if key == "" {
		return `""`
	}
	return key
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// quote quotes s for a message, shortened so that a runaway value cannot
// flood the output.
func quote(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
