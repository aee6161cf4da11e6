package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a topology file.
type Problem struct {
	// Path locates the value in the file, as in regions[1].id or
	// namespaces[0].lag-alert.warning; a syntax error has "line N".
	Path string
	// Message says what is wrong with the value at Path.
	Message string
}

// Error lists every problem found in one topology file. Its text has one
// line per problem, "<file>: <path>: <message>", as `xdrd validate`
// prints them.
type Error struct {
	// File is the name the file was loaded under; empty omits the prefix.
	File string
	// Problems holds at least one problem, grouped by section and entry.
	Problems []Problem
}

// Error returns the problems, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			b.WriteString(": ")
		}
		b.WriteString(p.Path)
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Load reads and parses the topology file at path. A file that cannot be
// read gives a plain error; a file with problems gives an *Error naming
// the file as path.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a topology from data, strictly: an unknown key, a value of
// the wrong type and every semantic problem are all reported together in
// an *Error that names file. On success the defaults are filled in.
func Parse(file string, data []byte) (*Topology, error) {
	doc, syntax := parseYAML(data)
	if syntax != nil {
		return nil, &Error{File: file, Problems: []Problem{*syntax}}
	}

	d := newDecoder(len(data))
	t := d.topology(doc)
	if t == nil || d.exhausted {
		return nil, &Error{File: file, Problems: d.problems}
	}

	problems := append(d.problems, validate(t, d.given)...)
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, &Error{File: file, Problems: problems}
	}
	fillDefaults(t)
	return t, nil
}

// parseYAML returns the single document in data, nil for an empty file,
// or the syntax error as a problem.
func parseYAML(data []byte) (doc *yaml.Node, problem *Problem) {
	// The YAML library reports its own failures by panicking and
	// recovering internally. Should a malformed file ever slip past that,
	// a reload must fail with a message rather than kill the daemon.
	defer func() {
		if v := recover(); v != nil {
			doc = nil
			problem = &Problem{Path: "document", Message: fmt.Sprintf("yaml parser failed: %v", v)}
		}
	}()

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxProblem(err)
	}

	// A second document would be silently ignored by a plain decode, and
	// someone who wrote one meant it to count.
	var second yaml.Node
	err := dec.Decode(&second)
	switch {
	case errors.Is(err, io.EOF):
		return &first, nil
	case err != nil:
		return nil, syntaxProblem(err)
	}
	return nil, &Problem{
		Path:    "line " + strconv.Itoa(documentLine(&second)),
		Message: "a topology file holds one YAML document, found another",
	}
}

func documentLine(doc *yaml.Node) int {
	if doc.Line == 0 && len(doc.Content) > 0 {
		return doc.Content[0].Line
	}
	return doc.Line
}

var syntaxLine = regexp.MustCompile(`^line (\d+): `)

// syntaxProblem turns the library's "yaml: line 7: ..." into a problem at
// path "line 7"; errors without a line are placed on the document.
func syntaxProblem(err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		return &Problem{Path: "line " + m[1], Message: msg[len(m[0]):]}
	}
	return &Problem{Path: "document", Message: msg}
}

// sortProblems groups problems by section and then by entry, so that
// everything wrong with regions[2] is listed together whether the decoder
// or a later check found it. The sort is stable: within an entry the
// order of discovery is kept.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		ra, ia := problemKey(a.Path)
		rb, ib := problemKey(b.Path)
		if ra != rb {
			return ra - rb
		}
		return ia - ib
	})
}

var sections = []string{"regions", "namespaces", "links"}

// problemKey returns the rank of the section a path is in (0 for anything
// outside the three sections) and the entry index within it (-1 for the
// section itself).
func problemKey(path string) (rank, index int) {
	for i, s := range sections {
		rest, ok := strings.CutPrefix(path, s)
		if !ok || (rest != "" && rest[0] != '[' && rest[0] != '.') {
			continue
		}
		index = -1
		if num, _, ok := strings.Cut(strings.TrimPrefix(rest, "["), "]"); ok {
			if n, err := strconv.Atoi(num); err == nil {
				index = n
			}
		}
		return i + 1, index
	}
	return 0, -1
}

// fillDefaults sets what a valid file left out. Validation has already
// rejected explicit zeros and empty lists, so a zero here means absent.
func fillDefaults(t *Topology) {
	for i := range t.Namespaces {
		ns := &t.Namespaces[i]
		if ns.Conflict == "" {
			ns.Conflict = ConflictGeneration
		}
		if ns.Shards == 0 {
			ns.Shards = DefaultShards
		}
		if len(ns.ShipTo) == 0 {
			// Every region, including a shipper's own: Destinations
			// drops the source, so each region ships to all the others.
			ns.ShipTo = make([]string, 0, len(t.Regions))
			for _, r := range t.Regions {
				ns.ShipTo = append(ns.ShipTo, r.Name)
			}
		}
		if ns.TombstoneHorizon == 0 {
			ns.TombstoneHorizon = Duration(DefaultTombstoneHorizon)
		}
	}
}
