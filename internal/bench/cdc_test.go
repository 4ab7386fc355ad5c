package bench

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}, {0.5, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %s, want %s", c.p, got, c.want)
		}
	}
	if d[0] != 100*time.Millisecond {
		t.Error("percentile sorted its input")
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %s", got)
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one = %s", got)
	}
}

func TestParseMix(t *testing.T) {
	m, err := parseMix("delete=10, update=70,insert=20")
	if err != nil || m != (cdcMix{Update: 70, Insert: 20, Delete: 10}) {
		t.Fatalf("%+v %v", m, err)
	}
	if m.String() != "update=70,insert=20,delete=10" {
		t.Fatal(m.String())
	}
	if m, err := parseMix("update=100"); err != nil || m.Update != 100 {
		t.Fatalf("%+v %v", m, err)
	}
	for _, bad := range []string{"update=70,insert=20", "update=70,insert=40,delete=-10", "upsert=100", "update", "update=x"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The planner's transactions have the asked size and roughly the mix,
// stay in their client's keys, never name a row twice in a transaction,
// never touch a deleted row again, and insert fresh keys.
func TestKeyspacePlans(t *testing.T) {
	const rows, parts = 10_000, 3
	mix := cdcMix{Update: 60, Insert: 25, Delete: 15}
	live := map[int64]bool{}
	for id := int64(1); id <= rows; id++ {
		live[id] = true
	}
	counts := map[string]int{}
	for part := int64(0); part < parts; part++ {
		k := newKeyspace(part, parts, rows, 0, mix, 1)
		for seq := range int64(500) {
			tx, err := k.next(seq, 10)
			if err != nil {
				t.Fatal(err)
			}
			if tx.changes() != 10 || tx.Seq != seq {
				t.Fatalf("tx %+v", tx)
			}
			seen := map[int64]bool{}
			check := func(kind string, ids []int64, wantLive bool) {
				for _, id := range ids {
					if id%parts != part {
						t.Fatalf("client %d planned %s of id %d", part, kind, id)
					}
					if seen[id] {
						t.Fatalf("id %d twice in one transaction", id)
					}
					seen[id] = true
					if live[id] != wantLive {
						t.Fatalf("%s of id %d (live %v)", kind, id, live[id])
					}
					counts[kind]++
				}
			}
			check("update", tx.Updates, true)
			check("delete", tx.Deletes, true)
			check("insert", tx.Inserts, false)
			for _, id := range tx.Deletes {
				delete(live, id)
			}
			for _, id := range tx.Inserts {
				if id <= rows {
					t.Fatalf("insert of an initial id %d", id)
				}
				live[id] = true
			}
		}
	}
	total := float64(parts * 500 * 10)
	for kind, share := range map[string]int{"update": mix.Update, "insert": mix.Insert, "delete": mix.Delete} {
		if got := float64(counts[kind]) / total * 100; got < float64(share)-3 || got > float64(share)+3 {
			t.Errorf("%s: %.1f%% of the changes, want about %d%%", kind, got, share)
		}
	}
}

// With hot rows, the updates go to them and the deletes never do.
func TestKeyspaceHot(t *testing.T) {
	k := newKeyspace(1, 2, 1000, 5, cdcMix{Update: 50, Delete: 50}, 7)
	hot := map[int64]bool{1: true, 3: true, 5: true, 7: true, 9: true}
	for seq := range int64(200) {
		tx, err := k.next(seq, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tx.Updates {
			if !hot[id] {
				t.Fatalf("update of a cold row %d", id)
			}
		}
		for _, id := range tx.Deletes {
			if hot[id] {
				t.Fatalf("delete of a hot row %d", id)
			}
		}
	}
}

func TestTxStatements(t *testing.T) {
	tx := cdcTx{Seq: 1 << 40, Updates: []int64{4, 8}, Inserts: []int64{1001}, Deletes: []int64{12}}
	stmts, rows := tx.statements()
	if len(stmts) != 3 || rows[0] != 2 || rows[1] != 1 || rows[2] != 1 {
		t.Fatalf("%q %v", stmts, rows)
	}
	if !strings.Contains(stmts[0], "version = 1099511627776") || !strings.HasSuffix(stmts[0], "WHERE id IN (4,8)") {
		t.Error(stmts[0])
	}
	// The inserted row has the fill's values for its id (dataset.go), as PostgreSQL computes them.
	if !strings.Contains(stmts[1], "(1001, 26919, 1, 1099511627776, 'C-b8c37e33defde51cf91e1e03e51657da', ") ||
		!strings.Contains(stmts[1], `, 48337.29, CURRENT_TIMESTAMP(6), false, '{"k": 1001, "tag": "tag1", "flags": [0, 0], "ok": false}')`) {
		t.Error(stmts[1])
	}
	if stmts[2] != "DELETE FROM t WHERE id IN (12)" {
		t.Error(stmts[2])
	}
	if s, r := (&cdcTx{Updates: []int64{1}}).statements(); len(s) != 1 || len(r) != 1 {
		t.Errorf("%q", s)
	}
}

func TestCDCTaskSettings(t *testing.T) {
	got, err := cdcTaskSettings(`{"ChangeProcessingTuning":{"MinTransactionSize":5000},"TargetMetadata":{"BatchApplyEnabled":false,"SupportLobs":true}}`, true)
	if err != nil || got != `{"ChangeProcessingTuning":{"MinTransactionSize":5000},"TargetMetadata":{"BatchApplyEnabled":true,"SupportLobs":true}}` {
		t.Errorf("merged: %s %v", got, err)
	}
	if got, err := cdcTaskSettings("", false); err != nil || got != `{"TargetMetadata":{"BatchApplyEnabled":false}}` {
		t.Errorf("none: %s %v", got, err)
	}
	if _, err := cdcTaskSettings("{", false); err == nil {
		t.Error("a malformed document was taken")
	}
}
