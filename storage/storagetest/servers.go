package storagetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago, for a
// server process a test starts.
func FreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// StartRedis starts a redis-server without persistence on port (args are
// added, e.g. "--replicaof"), waits until it answers and kills it when the
// test ends.
func StartRedis(t *testing.T, dir, name, port string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := StartProcess(t, dir, name, "redis-server", append([]string{"--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", "--dir", dir, "--dbfilename", name + ".rdb"}, args...)...)
	WaitUntil(t, 10*time.Second, name+" to answer", func() bool { return RedisCLI(port, "ping") == "PONG\n" })
	return cmd
}

// StartProcess starts a server process, logging to dir/name.log, and kills
// it when the test ends; the log is shown when the test failed.
func StartProcess(t *testing.T, dir, name, bin string, args ...string) *exec.Cmd {
	t.Helper()
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return cmd
}

// RedisCLI runs redis-cli against the server on port and returns its
// output ("" on failure).
func RedisCLI(port string, args ...string) string {
	out, err := exec.Command("redis-cli", append([]string{"-p", port}, args...)...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// WaitUntil polls cond every 50 ms and fails the test when it is still
// false after limit.
func WaitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
