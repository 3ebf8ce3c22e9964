package datosbot

import "time"

// The names shared by the two sides of the delivery outbox: package
// storage keeps the queue and its counters in Redis, package reminders
// runs the workers and reads the counters into its Stats.

// OutboxCounter names one of the outbox's counters, kept across replicas
// since the store was created (and the two sizes of the queue now). It is
// an alias, not a type of its own, because the names are also spliced into
// the storage's Lua scripts.
type OutboxCounter = string

const (
	OutboxQueued      OutboxCounter = "queued"      // messages waiting now
	OutboxInFlight    OutboxCounter = "inflight"    // messages claimed now
	OutboxEnqueued    OutboxCounter = "enqueued"    // messages accepted
	OutboxDuplicates  OutboxCounter = "duplicates"  // messages skipped: their key was already enqueued or finished
	OutboxSent        OutboxCounter = "sent"        // posts recorded as delivered
	OutboxRetried     OutboxCounter = "retried"     // transient failures retried
	OutboxRateLimited OutboxCounter = "ratelimited" // posts the platform asked to delay
	OutboxMoved       OutboxCounter = "moved"       // posts redirected to a chat's new id
	OutboxFailed      OutboxCounter = "failed"      // messages given up
	OutboxReleased    OutboxCounter = "released"    // claims returned by a stopping worker
	OutboxRecovered   OutboxCounter = "recovered"   // claims whose lease expired
	OutboxFound       OutboxCounter = "found"       // possibly accepted posts found on the platform, not posted again
	OutboxUncertain   OutboxCounter = "uncertain"   // posts that may have repeated an accepted one
	OutboxRepeated    OutboxCounter = "repeated"    // posts recorded twice: certain repeats
)

// OccurrenceClaim is the answer to a scheduler's claim of an occurrence
// (storage.Store.ClaimOccurrence).
type OccurrenceClaim = string

const (
	OccurrenceClaimed OccurrenceClaim = "claimed" // the caller holds it now
	OccurrenceBusy    OccurrenceClaim = "busy"    // another scheduler holds it
	OccurrenceDone    OccurrenceClaim = "done"    // its messages were enqueued already
)

// PostPace is how fast posts into one channel may go: the limits a
// platform counts when posts arrive. storage.Store.OutboxClaim plans each
// post's slot with it and OutboxPosting checks it, across replicas, at the
// instant the post starts.
type PostPace struct {
	// Every is the least time since the channel's last post. Zero: none.
	Every time.Duration
	// Bucket names a limit shared by many channels (a platform-wide one),
	// "" for none: slots are planned BucketEvery apart, and at most
	// BucketLimit posts of its channels start within any BucketWindow.
	Bucket       string
	BucketEvery  time.Duration
	BucketLimit  int
	BucketWindow time.Duration
	// ChatLimit, when not zero, is the most posts into the channel itself
	// within any ChatWindow (Telegram: 20 a minute into one group).
	ChatLimit  int
	ChatWindow time.Duration
}
