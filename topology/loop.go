package topology

import (
	"slices"
	"strings"
)

// maxLoops bounds how many forwarding loops are listed. A full mesh of
// forwarding links has more cycles than anyone would read, and listing
// them all takes time exponential in the number of regions.
const maxLoops = 10

// checkLoops reports every cycle made only of forwarding links, once per
// cycle. On such a cycle a version from elsewhere is passed on by each
// region in turn and reaches the first one again, which forwards it again.
func (c *checker) checkLoops() {
	g := c.forwardGraph()
	if len(g.names) > MaxRegionID {
		// So many regions cannot all have distinct IDs, which is already
		// reported. The search is quadratic at worst; skip it rather than
		// spend that on a file that is invalid anyway.
		return
	}
	cycles, more := g.cycles(maxLoops)
	for _, cycle := range cycles {
		names := make([]string, 0, len(cycle)+1)
		for _, v := range cycle {
			names = append(names, g.names[v])
		}
		names = append(names, g.names[cycle[0]])
		first := g.links[edge{cycle[0], cycle[1]}]
		c.addf(join(index("links", first), "forward"),
			"forwarding closes a loop: %s", strings.Join(names, " -> "))
	}
	if more {
		c.addf("links", "more than %d forwarding loops; only the first %d are listed",
			maxLoops, maxLoops)
	}
}

type edge struct{ from, to int }

// forwardGraph is the directed graph of forwarding links between distinct
// regions with valid names. Vertices are numbered in the order their regions
// appear in the file, so that each cycle is named from its first region.
type forwardGraph struct {
	names []string
	adj   [][]int
	radj  [][]int
	// links maps an edge to the first forwarding link that makes it.
	links map[edge]int
}

func (c *checker) forwardGraph() *forwardGraph {
	var forwarding []int
	used := map[string]bool{}
	for i, l := range c.t.Links {
		p := index("links", i)
		if !l.Forward || !c.given.ok(p) || l.From == l.To ||
			!c.validRegions[l.From] || !c.validRegions[l.To] {
			continue
		}
		forwarding = append(forwarding, i)
		used[l.From], used[l.To] = true, true
	}

	// Only regions on a forwarding link become vertices, which keeps the
	// search small however many regions the file has.
	g := &forwardGraph{links: map[edge]int{}}
	vertex := map[string]int{}
	for _, r := range c.t.Regions {
		if _, seen := vertex[r.Name]; used[r.Name] && !seen {
			vertex[r.Name] = len(g.names)
			g.names = append(g.names, r.Name)
		}
	}
	g.adj = make([][]int, len(g.names))
	g.radj = make([][]int, len(g.names))
	for _, i := range forwarding {
		e := edge{vertex[c.t.Links[i].From], vertex[c.t.Links[i].To]}
		if _, dup := g.links[e]; dup {
			continue
		}
		g.links[e] = i
		g.adj[e.from] = append(g.adj[e.from], e.to)
		g.radj[e.to] = append(g.radj[e.to], e.from)
	}
	return g
}

// cycles lists the graph's elementary cycles by Johnson's algorithm, each
// as its vertices starting from the lowest. It stops after limit cycles
// and then reports that there are more.
func (g *forwardGraph) cycles(limit int) (found [][]int, more bool) {
	n := len(g.adj)
	blocked := make([]bool, n)
	blockedBy := make([][]int, n)
	var (
		stack  []int
		start  int
		member []bool
	)

	var unblock func(u int)
	unblock = func(u int) {
		blocked[u] = false
		for _, w := range blockedBy[u] {
			if blocked[w] {
				unblock(w)
			}
		}
		blockedBy[u] = blockedBy[u][:0]
	}

	// circuit extends the path on the stack from v and says whether it
	// closed a cycle. Vertices stay blocked while no cycle can pass
	// through them, which is what keeps the search linear per cycle.
	var circuit func(v int) bool
	circuit = func(v int) bool {
		closed := false
		stack = append(stack, v)
		blocked[v] = true
		for _, w := range g.adj[v] {
			switch {
			case more || !member[w]:
			case w == start && len(found) == limit:
				more = true
			case w == start:
				found = append(found, slices.Clone(stack))
				closed = true
			case !blocked[w] && circuit(w):
				closed = true
			}
		}
		if closed {
			unblock(v)
		} else {
			for _, w := range g.adj[v] {
				if member[w] && !slices.Contains(blockedBy[w], v) {
					blockedBy[w] = append(blockedBy[w], v)
				}
			}
		}
		stack = stack[:len(stack)-1]
		return closed
	}

	for start = 0; start < n && !more; start++ {
		member = g.component(start)
		if member == nil {
			continue
		}
		for v := start; v < n; v++ {
			blocked[v] = false
			blockedBy[v] = blockedBy[v][:0]
		}
		circuit(start)
	}
	return found, more
}

// component returns the strongly connected component of s within the
// vertices numbered s or higher, or nil when no cycle passes through s
// there. Every cycle whose lowest vertex is s lies inside it.
func (g *forwardGraph) component(s int) []bool {
	from := reach(s, g.adj)
	to := reach(s, g.radj)
	member := make([]bool, len(g.adj))
	cyclic := false
	for v := s + 1; v < len(g.adj); v++ {
		if from[v] && to[v] {
			member[v] = true
			cyclic = true
		}
	}
	if !cyclic {
		return nil
	}
	member[s] = true
	return member
}

// reach marks the vertices numbered s or higher that adj leads to from s.
func reach(s int, adj [][]int) []bool {
	seen := make([]bool, len(adj))
	seen[s] = true
	queue := []int{s}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range adj[v] {
			if w >= s && !seen[w] {
				seen[w] = true
				queue = append(queue, w)
			}
		}
	}
	return seen
}
