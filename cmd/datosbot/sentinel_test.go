package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/datosbot/datosbot/storage/storagetest"
)

// TestSentinelFailoverKeepsAcknowledgedRegistrations runs the bot against
// a Redis primary, one replica and three redis-sentinel processes, with
// DATOSBOT_REDIS_WAIT=1, while a client registers institutions through
// the API one after another. It kills the primary with SIGKILL: Sentinel
// promotes the replica, the bot serves again by itself, and once a new
// replica follows the promoted primary registrations are acknowledged
// again. No registration the bot acknowledged is missing.
//
// It needs redis-server, redis-sentinel and redis-cli; ./scripts/test.sh
// installs them and sets DATOSBOT_TEST_SENTINEL=1. The hermetic run skips
// it.
func TestSentinelFailoverKeepsAcknowledgedRegistrations(t *testing.T) {
	if os.Getenv("DATOSBOT_TEST_SENTINEL") == "" {
		t.Skip("needs redis-server, redis-sentinel and redis-cli on PATH: ./scripts/test.sh installs them and sets DATOSBOT_TEST_SENTINEL=1")
	}
	began := time.Now()
	dir := t.TempDir()
	primaryPort, replicaPort := storagetest.FreePort(t), storagetest.FreePort(t)
	primary := storagetest.StartRedis(t, dir, "primary", primaryPort)
	replica := storagetest.StartRedis(t, dir, "replica", replicaPort, "--replicaof", "127.0.0.1", primaryPort)
	storagetest.WaitUntil(t, 10*time.Second, "the replica to sync", func() bool {
		return strings.Contains(storagetest.RedisCLI(replicaPort, "info", "replication"), "master_link_status:up")
	})
	// Each sentinel is told its peers and the replica up front (their ids
	// are ours), so that none waits for the others' hello messages.
	var sentinels, ports []string
	for range 3 {
		port := storagetest.FreePort(t)
		ports = append(ports, port)
		sentinels = append(sentinels, "127.0.0.1:"+port)
	}
	sentinelID := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	for i, port := range ports {
		conf := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel myid %s\n"+
			"sentinel monitor mymaster 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds mymaster 400\n"+
			"sentinel failover-timeout mymaster 3000\n"+
			"sentinel known-replica mymaster 127.0.0.1 %s\n", port, dir, sentinelID(i), primaryPort, replicaPort)
		for j, peer := range ports {
			if j != i {
				conf += fmt.Sprintf("sentinel known-sentinel mymaster 127.0.0.1 %s %s\n", peer, sentinelID(j))
			}
		}
		file := filepath.Join(dir, fmt.Sprintf("sentinel%d.conf", i))
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		storagetest.StartProcess(t, dir, fmt.Sprintf("sentinel%d", i), "redis-sentinel", file)
	}
	for _, port := range ports {
		storagetest.WaitUntil(t, 15*time.Second, "the sentinels to know each other and the replica", func() bool {
			return fieldCount(storagetest.RedisCLI(port, "sentinel", "sentinels", "mymaster"), "ip") >= 2 &&
				strings.Contains(storagetest.RedisCLI(port, "sentinel", "replicas", "mymaster"), replicaPort)
		})
	}
	t.Logf("sentinels ready after %s", time.Since(began).Round(100*time.Millisecond))
	token := strings.Repeat("s", 40)
	cfg, err := LoadConfig(env(map[string]string{
		"REDIS_URL":           "redis://" + strings.Join(sentinels, ",") + "/0?master_name=mymaster",
		"DATOSBOT_REDIS_WAIT": "1", "DATOSBOT_API_TOKENS": token, "DATOSBOT_CONSOLE": "0", "DATOSBOT_ADDR": "127.0.0.1:0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Start(context.Background(), cfg, strings.NewReader(""), io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	api := &apiClient{base: "http://" + m.Addr(), token: token}

	// Registrations go on, one after another, through the whole drill.
	var (
		mu    sync.Mutex
		acked []string
		stop  = make(chan struct{})
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("inst%04d", i)
			if api.register(key) {
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			} else {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	storagetest.WaitUntil(t, 20*time.Second, "20 registrations before the kill", func() bool { return count() >= 20 })

	// With the replica frozen, WAIT cannot be satisfied: the registration
	// is not acknowledged.
	replica.Process.Signal(syscall.SIGSTOP)
	if api.register("congelada") {
		t.Error("a registration was acknowledged while the only replica was frozen (DATOSBOT_REDIS_WAIT=1)")
	}
	replica.Process.Signal(syscall.SIGCONT)
	thawed := count()
	storagetest.WaitUntil(t, 20*time.Second, "registrations acknowledged again after the thaw", func() bool { return count() >= thawed+10 })

	killed := time.Now()
	primary.Process.Kill()
	primary.Wait()
	before := count()
	storagetest.WaitUntil(t, 30*time.Second, "the bot to read from the promoted replica", func() bool {
		_, ok := api.keys()
		return ok && strings.Contains(storagetest.RedisCLI(replicaPort, "info", "replication"), "role:master")
	})
	t.Logf("served again %s after the kill (%d registrations acknowledged before it)", time.Since(killed).Round(100*time.Millisecond), before)

	// WAIT 1 needs a replica: until one replicates the promoted primary,
	// registrations are stored but answered with "try again". A new replica
	// takes the dead node's place; then they are acknowledged again.
	storagetest.StartRedis(t, dir, "new-replica", storagetest.FreePort(t), "--replicaof", "127.0.0.1", replicaPort)
	storagetest.WaitUntil(t, 30*time.Second, "registrations acknowledged again with a replica back", func() bool { return count() >= before+10 })
	t.Logf("acknowledged again %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	close(stop)
	<-done

	got, ok := api.keys()
	if !ok {
		t.Fatal("GET /api/v1/institutions failed after the failover")
	}
	mu.Lock()
	defer mu.Unlock()
	var lost []string
	for _, k := range acked {
		if !got[k] {
			lost = append(lost, k)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged registrations lost in the failover: %v", len(lost), len(acked), lost)
	}
}

// apiClient registers institutions through the bot's HTTP API.
type apiClient struct{ base, token string }

func (c *apiClient) do(method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second}
	return client.Do(req)
}

// register reports whether the bot acknowledged the registration of key.
func (c *apiClient) register(key string) bool {
	body, _ := json.Marshal(map[string]any{"key": key, "name": "Institución " + key})
	resp, err := c.do("POST", "/api/v1/institutions", body)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode/100 == 2
}

// keys returns the keys of the stored institutions.
func (c *apiClient) keys() (map[string]bool, bool) {
	resp, err := c.do("GET", "/api/v1/institutions", nil)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			Key string `json:"key"`
		} `json:"items"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
		return nil, false
	}
	out := map[string]bool{}
	for _, it := range list.Items {
		out[it.Key] = true
	}
	return out, true
}

// freePort returns a loopback TCP port that was free a moment ago.
// fieldCount counts the lines of redis-cli output that are exactly field.
func fieldCount(out, field string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if l == field {
			n++
		}
	}
	return n
}
