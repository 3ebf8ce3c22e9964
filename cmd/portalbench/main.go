// Command portalbench measures the new-data watch (portal.Watch) against
// the fake portal (portal/ckantest) with 300 organizations and 5,000
// datasets, one institution with a liaison channel per organization, and
// prints a table: requests per run and time per run for a quiet run, a
// typical run (a few organizations publish), a busy one, and a mass edit
// that touches every dataset (a re-harvest).
//
// Time per run is measured without pacing on loopback; the column "at 1
// req/s" is what the default DATOSBOT_CKAN_RPS=1 makes of it on the real
// portal (requests × 1 s, the portal's own latency aside).
//
// Usage:
//
//	go run ./cmd/portalbench
//	go run ./cmd/portalbench -orgs 300 -datasets 5000 -runs 5
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/datosbot/datosbot"
	"github.com/datosbot/datosbot/portal"
	"github.com/datosbot/datosbot/portal/ckantest"
	"github.com/datosbot/datosbot/storage"
)

// counter is an outbox that counts what it is given.
type counter struct{ n atomic.Int64 }

func (c *counter) Post(ctx context.Context, msgs ...datosbot.Message) error {
	c.n.Add(int64(len(msgs)))
	return nil
}

func main() {
	var (
		orgs     = flag.Int("orgs", 300, "organizations (one institution each)")
		datasets = flag.Int("datasets", 5000, "datasets spread over the organizations")
		runs     = flag.Int("runs", 5, "runs measured per scenario (the median is shown)")
	)
	flag.Parse()
	if err := run(*orgs, *datasets, *runs); err != nil {
		log.Fatal(err)
	}
}

func run(orgs, datasets, runs int) error {
	ctx := context.Background()
	var clock atomic.Int64
	start := time.Date(2026, 11, 20, 16, 0, 0, 0, time.UTC)
	clock.Store(start.AddDate(0, -1, 0).UnixMicro())
	now := func() time.Time { return time.UnixMicro(clock.Load()).UTC() }
	advance := func(d time.Duration) { clock.Add(d.Microseconds()) }

	ckan := ckantest.New(now)
	defer ckan.Close()
	mini := miniredis.NewMiniRedis()
	if err := mini.Start(); err != nil {
		return err
	}
	defer mini.Close()
	store, err := storage.Open(ctx, storage.Config{URL: "redis://" + mini.Addr(), Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer store.Close(ctx)

	ids := make([][]string, orgs) // dataset ids per organization
	for i := range orgs {
		org := fmt.Sprintf("org%03d", i)
		ckan.AddOrg(org, "Organización "+org)
		in := datosbot.Institution{Key: org, Name: "Institución " + org, CKANOrg: org, Active: true}
		if _, err := store.PutInstitution(ctx, in, "bench"); err != nil {
			return err
		}
		if err := store.LinkChannel(ctx, datosbot.ChannelID("console:"+org), org, "bench"); err != nil {
			return err
		}
	}
	for i := range datasets {
		org := i % orgs
		d := ckan.Add(ckantest.Dataset{Name: fmt.Sprintf("conjunto_%05d", i), Title: fmt.Sprintf("Conjunto %d", i),
			Org: fmt.Sprintf("org%03d", org), Resources: []ckantest.Resource{{Name: "datos", Format: "CSV"}}})
		ids[org] = append(ids[org], d.ID)
	}

	client, err := portal.New(portal.Config{URL: ckan.URL, RPS: -1})
	if err != nil {
		return err
	}
	posts := &counter{}
	w := &portal.Watch{Client: client, Store: store, Poster: posts, Holder: "bench", Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	advance(30 * 24 * time.Hour)
	if st := w.Tick(ctx); st.Err != nil || !st.First {
		return fmt.Errorf("first run: %+v", st)
	}

	type scenario struct {
		name   string
		change func() // what the portal publishes before the run
	}
	updateResources := func(orgCount, perOrg int) func() {
		return func() {
			for o := range orgCount {
				for k := range perOrg {
					id := ids[o][k%len(ids[o])]
					ckan.Edit(id, func(d *ckantest.Dataset) { d.Resources[0].LastModified = now() })
				}
			}
		}
	}
	scenarios := []scenario{
		{"quiet (nothing published)", func() {}},
		{"typical (10 orgs, 3 datasets each)", updateResources(10, 3)},
		{"busy (100 orgs, 2 datasets each)", updateResources(100, 2)},
		{"mass edit (every dataset)", updateResources(orgs, datasets/orgs+1)},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\torgs changed\tdatasets read\tnotices\trequests/run\ttime/run\tat 1 req/s\t\n")
	for _, sc := range scenarios {
		var times []time.Duration
		var last portal.RunStats
		notices := 0
		for range runs {
			// Each run is 15 minutes after the last; the hour of overlap
			// is skipped so that every run sees only its own changes.
			advance(2 * time.Hour)
			sc.change()
			advance(time.Minute)
			before := posts.n.Load()
			began := time.Now()
			st := w.Tick(ctx)
			if st.Err != nil {
				return fmt.Errorf("%s: %v", sc.name, st.Err)
			}
			times = append(times, time.Since(began))
			last, notices = st, int(posts.n.Load()-before)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t\n", sc.name, last.Orgs, last.Datasets, notices, last.Requests,
			median(times).Round(100*time.Microsecond), (time.Duration(last.Requests) * time.Second).String())
	}
	fmt.Fprintf(tw, "polling each organization instead (no facet)\t%d\t\t\t≥ %d\t\t≥ %s\t\n", orgs, orgs, (time.Duration(orgs) * time.Second).String())
	tw.Flush()
	fmt.Printf("\n%d organizations, %d datasets, pages of 100 rows (sort=id asc), %d runs per scenario (median time); fake portal and miniredis in-process.\n",
		orgs, datasets, runs)
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
