package storage_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/storage"
	"github.com/datosbot/datosbot/storage/storagetest"
)

// TestWaitReplicasHoldsTheAnswer: with WaitReplicas 1, a registration is
// acknowledged only once the replica has it, on both ways the store writes
// a record (an optimistic transaction, as for institutions, and a script,
// as for actions). With the only replica frozen, each is answered
// EUNAVAILABLE (the write stays); thawed, the next ones are acknowledged.
// It needs redis-server and redis-cli (DATOSBOT_TEST_SENTINEL, set by
// ./scripts/test.sh).
func TestWaitReplicasHoldsTheAnswer(t *testing.T) {
	if os.Getenv("DATOSBOT_TEST_SENTINEL") == "" {
		t.Skip("needs redis-server and redis-cli on PATH: ./scripts/test.sh sets DATOSBOT_TEST_SENTINEL=1 for the real-Redis run")
	}
	dir := t.TempDir()
	primary, replicaPort := storagetest.FreePort(t), storagetest.FreePort(t)
	storagetest.StartRedis(t, dir, "primary", primary)
	replica := storagetest.StartRedis(t, dir, "replica", replicaPort, "--replicaof", "127.0.0.1", primary)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(storagetest.RedisCLI(replicaPort, "info", "replication"), "master_link_status:up"); {
		if time.Now().After(deadline) {
			t.Fatal("the replica never synced")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := storage.Open(ctx, storage.Config{URL: "redis://127.0.0.1:" + primary + "/0", Prefix: "wait:", WaitReplicas: 1,
		WaitTimeout: 2 * time.Second}) // the default: a loaded CI machine needs more than a few hundred ms
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	register := func(n int) (instErr, actionErr error) {
		key := fmt.Sprintf("inst%d", n)
		_, instErr = s.PutInstitution(ctx, datosbot.Institution{Key: key, Name: "Institución " + key, Active: true}, ana)
		_, _, actionErr = s.AddAction(ctx, action(fmt.Sprintf("A%d", n), "inegi", fmt.Sprintf("https://x.com/inegi/status/%d", n), nov20, testClock))
		return instErr, actionErr
	}
	if ie, ae := register(1); ie != nil || ae != nil {
		t.Fatalf("with the replica up: institution %v, action %v; want both acknowledged", ie, ae)
	}
	replica.Process.Signal(syscall.SIGSTOP)
	ie, ae := register(2)
	replica.Process.Signal(syscall.SIGCONT)
	for what, err := range map[string]error{"institution": ie, "action": ae} {
		var de *datosbot.Error
		if !errors.As(err, &de) || de.Code != datosbot.EUNAVAILABLE {
			t.Errorf("%s registered with the replica frozen: %v, want EUNAVAILABLE (not acknowledged)", what, err)
		}
	}
	if ie, ae := register(3); ie != nil || ae != nil {
		t.Errorf("with the replica thawed: institution %v, action %v; want both acknowledged", ie, ae)
	}
}
