package topology_test

import (
	"testing"

	"github.com/xdrd/xdrd/topology"
)

// TestProblems breaks one rule per case and checks the exact report.
func TestProblems(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"no regions", "regions: []\n" + oneNamespace,
			[]string{"topology.yaml: regions: at least one region is required"}},
		{"no namespaces", twoRegions,
			[]string{"topology.yaml: namespaces: at least one namespace is required"}},
		{"region name missing", "regions: [{id: 1}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].name: required field is missing"}},
		{"region name empty", "regions: [{name: '', id: 1}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].name: must not be empty"}},
		{"region id missing", "regions: [{name: a}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].id: required field is missing"}},
		{"region name not a subject token", "regions: [{name: Eu.West, id: 1}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].name: invalid region name "Eu.West": ` +
				`names must match ^[a-z0-9][a-z0-9_-]{0,62}$ to be usable as NATS ` +
				`subject tokens and in stream names`}},
		{"duplicate region name", "regions: [{name: a, id: 1}, {name: a, id: 2}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[1].name: duplicate region name "a" ` +
				`(also regions[0])`}},
		{"duplicate region id", "regions: [{name: a, id: 7}, {name: b, id: 7}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[1].id: duplicate region id 7 (also regions[0])"}},
		{"region id zero", "regions: [{name: a, id: 0}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].id: id 0 is outside 1-255"}},
		{"region id too big", "regions: [{name: a, id: 256}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].id: id 256 is outside 1-255"}},
		{"region id not an integer", "regions: [{name: a, id: one}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].id: must be an integer, got a string"}},
		{"nats scheme", "regions: [{name: a, id: 1, nats: 'http://h:4222'}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].nats: malformed NATS URL "http://h:4222": ` +
				`scheme must be nats or tls, as in nats://host:4222`}},
		{"nats without port", "regions: [{name: a, id: 1, nats: 'tls://h'}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].nats: malformed NATS URL "tls://h": ` +
				`want host:port`}},
		{"store scheme", "regions: [{name: a, id: 1, store: 'mongodb://h:1'}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].store: unknown store scheme "mongodb" ` +
				`(valid: memory, embedded, redis, rediss)`}},
		{"store embedded relative", "regions: [{name: a, id: 1, store: 'embedded://data'}]\n" +
			oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL "embedded://data": ` +
				`want an absolute path, as in embedded:///var/lib/xdrd/store`}},
		{"store embedded unknown option",
			"regions: [{name: a, id: 1, store: 'embedded:///d?cache=1GiB'}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL ` +
				`"embedded:///d?cache=1GiB": unknown store option "cache" ` +
				`(valid: cache-size, memtable-size)`}},
		{"store embedded size not a size",
			"regions: [{name: a, id: 1, store: 'embedded:///d?memtable-size=8MB'}]\n" +
				oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL ` +
				`"embedded:///d?memtable-size=8MB": store option memtable-size: size "8MB": ` +
				`want a whole number of bytes, KiB, MiB or GiB up to 1 TiB, as in 48MiB`}},
		{"store embedded cache below four memtables",
			"regions: [{name: a, id: 1, store: 'embedded:///d?cache-size=16MiB'}]\n" +
				oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL ` +
				`"embedded:///d?cache-size=16MiB": cache-size 16MiB is less than 4 memtables ` +
				`of 8MiB: Pebble charges memtables to the cache, which would then hold no blocks`}},
		{"store memory path", "regions: [{name: a, id: 1, store: 'memory://x/y'}]\n" +
			oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL "memory://x/y": ` +
				`want memory:// or memory://name`}},
		{"store redis without port", "regions: [{name: a, id: 1, store: 'redis://h'}]\n" +
			oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL "redis://h": ` +
				`want host:port`}},
		{"store redis database hides password",
			"regions: [{name: a, id: 1, store: 'rediss://u:hunter2@h:6379/x'}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL ` +
				`"rediss://u:xxxxx@h:6379/x": the database must be a number, as in ` +
				`redis://host:6379/0`}},
		{"store redis unknown option",
			"regions: [{name: a, id: 1, store: 'redis://h:6379?pool_size=3'}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL ` +
				`"redis://h:6379?pool_size=3": unknown option "pool_size" (valid: log-max-len)`}},
		{"store redis log length not a number",
			"regions: [{name: a, id: 1, store: 'redis://h:6379?log-max-len=many'}]\n" +
				oneNamespace,
			[]string{`topology.yaml: regions[0].store: malformed store URL ` +
				`"redis://h:6379?log-max-len=many": log-max-len must be one whole number ` +
				`of change-log entries`}},
		{"store not a url", "regions: [{name: a, id: 1, store: /var/lib/xdrd}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].store: malformed store URL: want a URL such as " +
				"embedded:///var/lib/xdrd/store or redis://host:6379"}},
		{"peer without port", "regions: [{name: a, id: 1, peers: ['10.0.0.1']}]\n" + oneNamespace,
			[]string{`topology.yaml: regions[0].peers[0]: malformed peer address "10.0.0.1": ` +
				`want host:port`}},
		{"peer port out of range", "regions: [{name: a, id: 1, peers: ['h:70000']}]\n" +
			oneNamespace,
			[]string{`topology.yaml: regions[0].peers[0]: malformed peer address "h:70000": ` +
				`port "70000" must be a number from 1 to 65535`}},
		{"namespace name missing", twoRegions + "namespaces: [{shards: 4}]",
			[]string{"topology.yaml: namespaces[0].name: required field is missing"}},
		{"namespace name invalid", twoRegions + "namespaces: [{name: 'my ns'}]",
			[]string{`topology.yaml: namespaces[0].name: invalid namespace name "my ns": ` +
				`names must match ^[a-z0-9][a-z0-9_-]{0,62}$ to be usable as NATS ` +
				`subject tokens and in stream names`}},
		{"malformed alertmanager", twoRegions + "namespaces: [{name: ns}]\n" +
			"alertmanager: ftp://am", []string{"topology.yaml: alertmanager: malformed " +
			"alertmanager url: want http://host:port or https://host:port"}},
		{"reserved region name", "regions: [{name: dlq, id: 1}, {name: b, id: 2}]\n" +
			"namespaces: [{name: ns}]",
			[]string{`topology.yaml: regions[0].name: region name "dlq" is reserved: ` +
				`dead letters use subjects xdrd.dlq.>`}},
		{"duplicate namespace", twoRegions + "namespaces: [{name: ns}, {name: ns}]",
			[]string{`topology.yaml: namespaces[1].name: duplicate namespace name "ns" ` +
				`(also namespaces[0])`}},
		{"unknown policy", twoRegions + "namespaces: [{name: ns, conflict: newest}]",
			[]string{`topology.yaml: namespaces[0].conflict: unknown policy "newest"`}},
		{"shards zero", twoRegions + "namespaces: [{name: ns, shards: 0}]",
			[]string{"topology.yaml: namespaces[0].shards: must be between 1 and 4096, " +
				"got 0"}},
		{"shards too many", twoRegions + "namespaces: [{name: ns, shards: 4097}]",
			[]string{"topology.yaml: namespaces[0].shards: must be between 1 and 4096, " +
				"got 4097"}},
		{"ship-to unknown region", twoRegions + "namespaces: [{name: ns, ship-to: [b, c]}]",
			[]string{`topology.yaml: namespaces[0].ship-to[1]: unknown region "c"`}},
		{"ship-to duplicate", twoRegions + "namespaces: [{name: ns, ship-to: [a, b, a]}]",
			[]string{`topology.yaml: namespaces[0].ship-to[2]: duplicate region "a" ` +
				`(also ship-to[0])`}},
		{"ship-to empty", twoRegions + "namespaces: [{name: ns, ship-to: []}]",
			[]string{"topology.yaml: namespaces[0].ship-to: must not be empty: " +
				"leave it out to ship to every region"}},
		{"sets include and exclude",
			twoRegions + "namespaces: [{name: ns, sets: {include: [x], exclude: [y]}}]",
			[]string{"topology.yaml: namespaces[0].sets: " +
				"include and exclude cannot both be given"}},
		{"sets include empty", twoRegions + "namespaces: [{name: ns, sets: {include: []}}]",
			[]string{"topology.yaml: namespaces[0].sets.include: must not be empty: " +
				"no set would replicate; leave sets out to replicate all"}},
		{"lag warning not below critical",
			twoRegions + "namespaces: [{name: ns, lag-alert: {warning: 30s, critical: 5s}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.warning: " +
				"warning (30s) must be less than critical (5s)"}},
		{"lag warning equals critical",
			twoRegions + "namespaces: [{name: ns, lag-alert: {warning: 1m, critical: 60s}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.warning: " +
				"warning (1m0s) must be less than critical (1m0s)"}},
		{"lag warning zero",
			twoRegions + "namespaces: [{name: ns, lag-alert: {warning: 0s, critical: 5s}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.warning: " +
				"must be greater than zero, got 0s"}},
		{"lag critical negative",
			twoRegions + "namespaces: [{name: ns, lag-alert: {warning: 1s, critical: -5s}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.critical: " +
				"must be greater than zero, got -5s"}},
		{"lag critical missing",
			twoRegions + "namespaces: [{name: ns, lag-alert: {warning: 1s}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.critical: " +
				"required field is missing"}},
		{"lag for negative", twoRegions +
			"namespaces: [{name: ns, lag-alert: {warning: 1s, critical: 2s, for: -1m}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.for: " +
				"must not be negative, got -1m0s"}},
		{"duration without unit",
			twoRegions + "namespaces: [{name: ns, lag-alert: {warning: 5, critical: 30s}}]",
			[]string{`topology.yaml: namespaces[0].lag-alert.warning: duration 5 has no unit: ` +
				`write it as in "5s" or "1m30s"`}},
		{"duration malformed",
			twoRegions + "namespaces: [{name: ns, tombstone-horizon: 'one day'}]",
			[]string{`topology.yaml: namespaces[0].tombstone-horizon: invalid duration ` +
				`"one day": write it as in "5s" or "1m30s"`}},
		{"tombstone horizon zero", twoRegions + "namespaces: [{name: ns, tombstone-horizon: 0s}]",
			[]string{"topology.yaml: namespaces[0].tombstone-horizon: " +
				"must be greater than zero, got 0s"}},
		{"link unknown regions", twoRegions + oneNamespace + "links: [{from: a, to: c}]",
			[]string{`topology.yaml: links[0].to: unknown region "c"`}},
		{"link from missing", twoRegions + oneNamespace + "links: [{to: b}]",
			[]string{"topology.yaml: links[0].from: required field is missing"}},
		{"self link", twoRegions + oneNamespace + "links: [{from: a, to: a}]",
			[]string{`topology.yaml: links[0].to: link from "a" to itself`}},
		{"duplicate link", twoRegions + oneNamespace +
			"links: [{from: a, to: b}, {from: b, to: a}, {from: a, to: b, forward: true}]",
			[]string{`topology.yaml: links[2]: duplicate link from "a" to "b" (also links[0])`}},
		{"negative rate", twoRegions + oneNamespace +
			"links: [{from: a, to: b, max-records-per-second: -1}]",
			[]string{"topology.yaml: links[0].max-records-per-second: " +
				"must not be negative, got -1"}},
		{"forward not a boolean", twoRegions + oneNamespace +
			"links: [{from: a, to: b, forward: yes}]",
			[]string{"topology.yaml: links[0].forward: must be true or false, got a string"}},
		{"forwarding loop", twoRegions + oneNamespace +
			"links: [{from: a, to: b, forward: true}, {from: b, to: a, forward: true}]",
			[]string{"topology.yaml: links[0].forward: forwarding closes a loop: a -> b -> a"}},
		{"unknown top-level key", twoRegions + oneNamespace + "regoins: []",
			[]string{"topology.yaml: regoins: unknown key " +
				"(valid keys: regions, namespaces, links, alertmanager)"}},
		{"unknown nested key", twoRegions +
			"namespaces: [{name: ns, lag-alert: {warning: 1s, critical: 2s, fro: 1m}}]",
			[]string{"topology.yaml: namespaces[0].lag-alert.fro: unknown key " +
				"(valid keys: warning, critical, for)"}},
		{"key given twice", "regions: [{name: a, id: 1, id: 2}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0].id: key appears more than once"}},
		{"section of the wrong kind", "regions: {a: 1}\n" + oneNamespace,
			[]string{"topology.yaml: regions: must be a list, got a mapping"}},
		{"null entry", "regions: [~, {name: a, id: 1}]\n" + oneNamespace,
			[]string{"topology.yaml: regions[0]: must be a mapping, got null"}},
		{"document not a mapping", "- regions\n",
			[]string{"topology.yaml: document: must be a mapping, got a list"}},
		{"syntax error", twoRegions + oneNamespace + "links: x\n  to: b\n",
			[]string{"topology.yaml: line 4: mapping values are not allowed in this context"}},
		{"two documents", twoRegions + oneNamespace + "---\n" + twoRegions,
			[]string{"topology.yaml: line 3: a topology file holds one YAML document, " +
				"found another"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantLines(t, parseErr(t, tc.doc), tc.want...)
		})
	}
}

// TestEmbeddedStoreOptions accepts an embedded store URL that sizes
// Pebble's cache and memtables.
func TestEmbeddedStoreOptions(t *testing.T) {
	doc := "regions: [{name: a, id: 1, " +
		"store: 'embedded:///var/lib/xdrd/store?cache-size=96MiB&memtable-size=16MiB'}]\n" +
		oneNamespace
	if _, err := topology.Parse("topology.yaml", []byte(doc)); err != nil {
		t.Fatalf("embedded store with options: %v", err)
	}
}
