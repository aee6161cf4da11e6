package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/verify"
)

// haDuration is how long TestHAKillLeader kills leaders; XDRD_HA_DURATION
// shortens it for a local run.
const haDuration = 60 * time.Second

// TestHAKillLeader runs three regions of three `xdrd run` members each,
// sharing their region's redis-server, under writes in every region. Every
// 5 s the leader of the next region is killed with SIGKILL; another member
// of that region must take over and replicate, and the killed one starts
// again on its data dir. At the end every acknowledged write is in every
// region as written, and the regions hold identical records.
func TestHAKillLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs nine daemons")
	}
	duration := haDuration
	if v := os.Getenv("XDRD_HA_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("XDRD_HA_DURATION: %v", err)
		}
		duration = d
	}
	names := []string{"eu-west", "us-east", "ap-south"}
	e := newHAEnv(t, map[string]int{"eu-west": 3, "us-east": 3, "ap-south": 3}, names...)
	load := startLoad(t, e.regions, 3, 20*time.Millisecond)

	var takeovers []time.Duration
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for began, i := time.Now(), 0; time.Since(began) < duration; i++ {
		<-tick.C
		r := e.regions[i%len(e.regions)]
		old := r.waitLeader(30*time.Second, nil)
		killed := time.Now()
		old.kill()
		leader := r.waitLeader(30*time.Second, old)
		took := time.Since(killed)
		takeovers = append(takeovers, took)
		t.Logf("killed %s; %s took over in %s", old, leader, took.Round(time.Millisecond))
		old.start()
		old.waitJoined(30*time.Second, "follower", "leader")
	}

	load.stop()
	waitReplicated(t, e.regions, load, true, 3*time.Minute)
	slices.Sort(takeovers)
	t.Logf("%d takeovers: min %s, median %s, max %s; %d writes acknowledged",
		len(takeovers), takeovers[0].Round(time.Millisecond),
		takeovers[len(takeovers)/2].Round(time.Millisecond),
		takeovers[len(takeovers)-1].Round(time.Millisecond), len(load.acked()))
}

// TestHAStoppedLeaderIsFenced stops eu-west's leader with SIGSTOP for
// longer than the election timeout under writes. Another member takes
// over; the old leader, resumed, steps down, and the cursors it had staged
// in its old term are refused. No member's committed checkpoints ever move
// backwards, and every acknowledged write reaches us-east.
func TestHAStoppedLeaderIsFenced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four daemons")
	}
	e := newHAEnv(t, map[string]int{"eu-west": 3, "us-east": 1}, "eu-west", "us-east")
	eu := e.regions[0]
	load := startLoad(t, e.regions[:1], 3, 5*time.Millisecond)
	watch := watchCheckpoints(eu.members)

	const attempts = 3
	for attempt := 1; ; attempt++ {
		load.more(t, 300)
		old := eu.waitLeader(30*time.Second, nil)
		before := old.metricSum(haRefused)
		old.signal(syscall.SIGSTOP)
		stopped := time.Now()
		leader := eu.waitLeader(30*time.Second, old)
		t.Logf("attempt %d: stopped %s; %s leads after %s", attempt, old, leader,
			time.Since(stopped).Round(time.Millisecond))
		// The stop lasts 3 s, six election timeouts, whenever the takeover came.
		time.Sleep(time.Until(stopped.Add(3 * time.Second)))
		old.signal(syscall.SIGCONT)

		old.waitJoined(30*time.Second, "follower")
		// Its committer drops what it staged in its old term within one
		// commit interval (50 ms) of resuming; 40 of them is plenty.
		var after float64
		settled := time.Now().Add(2 * time.Second)
		testwait.For(t, 10*time.Second, old.String()+" to refuse or settle", func() bool {
			after = old.metricSum(haRefused)
			return after > before || time.Now().After(settled)
		})
		t.Logf("attempt %d: %s refused %v checkpoints after it resumed", attempt, old, after-before)
		if after > before {
			break
		}
		if attempt == attempts {
			t.Errorf("%s refused no staged checkpoint after %d stops", old, attempts)
			break
		}
	}

	load.stop()
	waitReplicated(t, e.regions, load, true, 2*time.Minute)
	for _, problem := range watch.stop() {
		t.Error(problem)
	}
}

// TestHAMemberRemovedAndReadded removes a follower of eu-west's three
// members through the leader's admin API under writes: its shards move to
// the two others, it stops shipping, and writes keep reaching us-east.
// Added back, it ships shards again, and every acknowledged write arrives.
func TestHAMemberRemovedAndReadded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four daemons")
	}
	e := newHAEnv(t, map[string]int{"eu-west": 3, "us-east": 1}, "eu-west", "us-east")
	eu := e.regions[0]
	load := startLoad(t, e.regions[:1], 3, 10*time.Millisecond)

	load.more(t, 300)
	leader := eu.waitLeader(30*time.Second, nil)
	var followers []*haMember
	for _, m := range eu.members {
		if m != leader {
			followers = append(followers, m)
		}
	}
	gone, other := followers[0], followers[1]
	remove := "/v1/members/remove?" + url.Values{"id": {gone.id}}.Encode()
	code, body, err := other.post(remove)
	if err != nil || code != http.StatusConflict || !strings.Contains(body, leader.id) {
		t.Errorf("remove sent to follower %s: %d %q, %v; want 409 naming leader %s",
			other, code, body, err, leader.id)
	}
	if code, body, err := leader.post(remove); err != nil || code != http.StatusOK {
		t.Fatalf("remove %s: %d %q, %v", gone, code, body, err)
	}
	waitShards(t, leader, 2, gone.id)
	load.more(t, 300)
	waitReplicated(t, e.regions, load, false, time.Minute)
	t.Logf("writes replicated with two members; %d acknowledged", len(load.acked()))
	// By now the removed member has had a second or more to stop its shippers.
	if s, err := gone.status(); err == nil && len(s.Outgoing) > 0 {
		t.Errorf("removed %s still ships (its view: role %s, leader %q, members %v)",
			gone, s.Raft.Role, s.Raft.Leader, s.Raft.Members)
	}

	add := "/v1/members/add?" + url.Values{"id": {gone.id}, "address": {gone.id}}.Encode()
	if code, body, err := leader.post(add); err != nil || code != http.StatusOK {
		t.Fatalf("add %s: %d %q, %v", gone, code, body, err)
	}
	waitShards(t, leader, 3, "")
	load.more(t, 300)

	load.stop()
	waitReplicated(t, e.regions, load, true, 2*time.Minute)
}

// waitShards waits until leader's status shows want members each shipping
// shards, all shards shipped once, and the member absent ships none.
func waitShards(t *testing.T, leader *haMember, want int, absent string) {
	t.Helper()
	what := fmt.Sprintf("%d members to ship the %d shards", want, haShards)
	testwait.Until(t, time.Minute, what, func() string {
		s, err := leader.status()
		if err != nil {
			return err.Error()
		}
		shipping, sum := 0, 0
		var seen []string
		for _, m := range s.Raft.Members {
			seen = append(seen, fmt.Sprintf("%s %s %d shards", m.ID, m.Role, m.Shards))
			if m.ID == absent && m.Shards > 0 {
				return fmt.Sprintf("removed %s still ships %d shards", m.ID, m.Shards)
			}
			if m.Shards > 0 {
				shipping++
			}
			sum += m.Shards
		}
		if shipping != want || sum != haShards {
			return strings.Join(seen, "; ")
		}
		return ""
	})
}

// cursorWatch polls the committed checkpoints of members every 100 ms and
// keeps every shard cursor that moved backwards.
type cursorWatch struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	problems []string
	reads    map[*haMember]int // answers read, per member
	moved    int               // cursors seen moving forward
}

func watchCheckpoints(members []*haMember) *cursorWatch {
	w := &cursorWatch{done: make(chan struct{}), reads: map[*haMember]int{}}
	for _, m := range members {
		w.reads[m] = 0
		w.wg.Go(func() { w.watch(m) })
	}
	return w
}

func (w *cursorWatch) watch(m *haMember) {
	last := map[string][]uint64{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-tick.C:
		}
		c, err := m.checkpoints()
		if err != nil {
			continue // a stopped member does not answer
		}
		w.mu.Lock()
		w.reads[m]++
		for ns, cursors := range c.Cursors {
			for shard, cur := range cursors {
				if shard >= len(last[ns]) {
					continue
				}
				switch prev := last[ns][shard]; {
				case cur < prev:
					w.problems = append(w.problems, fmt.Sprintf(
						"%s: checkpoint of %s shard %d went back from %d to %d",
						m, ns, shard, prev, cur))
				case cur > prev:
					w.moved++
				}
			}
			last[ns] = cursors
		}
		w.mu.Unlock()
	}
}

// stop ends the watch and returns what went wrong: a cursor that moved
// backwards, a member never read, or no cursor ever seen moving.
func (w *cursorWatch) stop() []string {
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	problems := w.problems
	if w.moved == 0 {
		problems = append(problems, "no checkpoint was seen moving forward")
	}
	for m, n := range w.reads {
		if n == 0 {
			problems = append(problems, fmt.Sprintf("%s: checkpoints never read", m))
		}
	}
	return problems
}

// haLoad writes into regions' stores through the redis driver, from a few
// writers per region, until stopped, and keeps every acknowledged write.
type haLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu   sync.Mutex
	acks map[string]record.Version // acknowledged writes of unique keys, by key
}

// startLoad starts writers per region, each writing once per every.
func startLoad(t testing.TB, regions []*haRegion, writers int, every time.Duration) *haLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &haLoad{cancel: cancel, acks: map[string]record.Version{}}
	for _, r := range regions {
		for w := range writers {
			l.wg.Go(func() { l.write(ctx, r, fmt.Sprintf("%s-%d", r.name, w), every) })
		}
	}
	t.Cleanup(l.stop)
	return l
}

// write puts the unique key <prefix>-<n> on every tick and, on every
// fourth, one of 16 keys that every region writes: conflicts.
func (l *haLoad) write(ctx context.Context, r *haRegion, prefix string, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		bins, _ := record.EncodeBins(map[string]any{"writer": prefix, "n": n})
		v, err := r.store.Put(ctx, haNamespace, "s", fmt.Sprintf("%s-%d", prefix, n), bins, 0)
		l.mu.Lock()
		if err == nil {
			l.acks[v.Key] = v
		}
		l.mu.Unlock()
		if n%4 == 0 {
			_, _ = r.store.Put(ctx, haNamespace, "s", fmt.Sprintf("shared-%d", n/4%16), bins, 0)
		}
	}
}

// stop ends the writers and waits for them.
func (l *haLoad) stop() {
	l.once.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
}

// more waits until n more writes are acknowledged.
func (l *haLoad) more(t testing.TB, n int) {
	t.Helper()
	count := func() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.acks) }
	target := count() + n
	testwait.Until(t, time.Minute, fmt.Sprintf("%d more writes", n), func() string {
		if got := count(); got < target {
			return fmt.Sprintf("%d of %d", got, target)
		}
		return ""
	})
}

// acked returns a copy of the acknowledged writes so far.
func (l *haLoad) acked() map[string]record.Version {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.acks)
}

// waitReplicated waits until every write acknowledged so far is in every
// region as written and, when match, until the regions hold identical
// records.
func waitReplicated(t testing.TB, regions []*haRegion, l *haLoad, match bool,
	timeout time.Duration) {
	t.Helper()
	want := l.acked()
	names := make([]string, len(regions))
	for i, r := range regions {
		names[i] = r.name
	}
	what := fmt.Sprintf("%d acknowledged writes in %s", len(want), strings.Join(names, ", "))
	if match {
		what += ", and the same records in each"
	}
	testwait.Until(t, timeout, what, func() string {
		snaps := make([]verify.Snapshot, len(regions))
		for i, r := range regions {
			snap, err := verify.Take(context.Background(), r.store, []string{haNamespace})
			if err != nil {
				return fmt.Sprintf("%s: %v", r.name, err)
			}
			snaps[i] = snap
			missing, example := 0, ""
			for key, v := range want {
				if got, ok := snap[haNamespace+"/s/"+key]; !ok || !verify.Same(got, v) {
					missing, example = missing+1, key
				}
			}
			if missing > 0 {
				return fmt.Sprintf("%s lacks %d, %s among them", r.name, missing, example)
			}
		}
		if diffs, _ := verify.Diff(names, snaps, 3); match && len(diffs) > 0 {
			return strings.Join(diffs, "; ")
		}
		return ""
	})
}
