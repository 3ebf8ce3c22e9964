package commands

import (
	"sync/atomic"
	"testing"
)

// CountParses counts the calls of Parse until t ends.
func CountParses(t testing.TB) *atomic.Int64 {
	var n atomic.Int64
	onParse = func() { n.Add(1) }
	t.Cleanup(func() { onParse = nil })
	return &n
}
