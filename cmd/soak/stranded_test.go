package main

import (
	"testing"
	"time"
)

// The soak's "in flight at the kills" line: a message the killed replica
// held counts from its kill to its first post; one taken by another replica
// that was killed in turn counts again from that kill, its first claim up
// to the kill that found it claimed anew; a message already posted when
// the kill came is no wait.
func TestStrandedMeasuresEachClaimFromItsKill(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	kills := []time.Time{at(10), at(19), at(30)}
	strands := []map[string]string{
		{"a": "t1", "b": "t2", "c": "t3"}, // kill 1
		{"a": "t1", "b": "t4"},            // kill 2: a still under its dead claim; b taken anew, by the replica killed now
		{"d": "t5"},                       // kill 3: d was posted just before it
	}
	first := map[string]time.Time{
		"a": at(18.5), // 8.5 s after kill 1 (seen again at kill 2, same claim)
		"b": at(27),   // 8 s after kill 2; its first claim lasted at most 9 s (kill 1 to kill 2)
		"c": at(10.2),
		"d": at(29.9),
	}
	n, worst, which := stranded(first, kills, strands)
	if n != 3 {
		t.Errorf("stranded messages = %d, want 3 (a, b, c; d was posted before its kill)", n)
	}
	if worst != 9*time.Second || which != "b" {
		t.Errorf("longest wait = %v (%s), want 9s (b: kill 1 to kill 2, where it was claimed anew)", worst, which)
	}

	first["a"] = at(40) // a waits 30 s under the same claim: counted from kill 1, not kill 2
	if _, worst, which = stranded(first, kills, strands); worst != 30*time.Second || which != "a" {
		t.Errorf("longest wait = %v (%s), want 30s (a, from kill 1)", worst, which)
	}
}
