package datosbot_test

import (
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/datosbot/datosbot"
)

func TestCampaignCompletes(t *testing.T) {
	loc, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		t.Fatal(err)
	}
	const accidentes = "https://www.datos.gob.mx/dataset/accidentes_transito"
	c := datosbot.Campaign{
		ID:       "C3M9",
		DataURLs: []string{"https://www.datos.gob.mx/dataset/codigos_postales", accidentes},
		// 05:30 UTC on 10 November is still 9 November in Mexico City: the
		// campaign started on the 9th there.
		CreatedAt:    time.Date(2026, 11, 10, 5, 30, 0, 0, time.UTC),
		Institutions: []string{"inegi"},
	}
	started := datosbot.Date{Year: 2026, Month: time.November, Day: 9}
	tests := []struct {
		name string
		a    datosbot.Action
		want bool
	}{
		{"names the campaign", datosbot.Action{Campaign: "C3M9", PublishedOn: started}, true},
		{"names the campaign, published before it started", datosbot.Action{Campaign: "C3M9", PublishedOn: started.AddDays(-30)}, true},
		{"names the campaign but withdrawn", datosbot.Action{Campaign: "C3M9", PublishedOn: started, Withdrawn: true}, false},
		{"same data URL on the day it started (local time)", datosbot.Action{DataURLs: []string{accidentes}, PublishedOn: started}, true},
		{"same data URL later", datosbot.Action{DataURLs: []string{accidentes}, PublishedOn: started.AddDays(20)}, true},
		{"same data URL the day before it started", datosbot.Action{DataURLs: []string{accidentes}, PublishedOn: started.AddDays(-1)}, false},
		{"same data URL but withdrawn", datosbot.Action{DataURLs: []string{accidentes}, PublishedOn: started, Withdrawn: true}, false},
		{"trailing slash", datosbot.Action{DataURLs: []string{accidentes + "/"}, PublishedOn: started}, true},
		{"http and no www", datosbot.Action{DataURLs: []string{"http://datos.gob.mx/dataset/accidentes_transito"}, PublishedOn: started}, true},
		{"host in upper case", datosbot.Action{DataURLs: []string{"https://WWW.Datos.Gob.MX/dataset/accidentes_transito"}, PublishedOn: started}, true},
		{"surrounding spaces", datosbot.Action{DataURLs: []string{"  " + accidentes + " "}, PublishedOn: started}, true},
		{"one of several URLs matches", datosbot.Action{DataURLs: []string{"https://datos.gob.mx/dataset/otro", accidentes}, PublishedOn: started}, true},
		{"another campaign's URL", datosbot.Action{DataURLs: []string{"https://datos.gob.mx/dataset/otro"}, PublishedOn: started}, false},
		{"a resource of the dataset is another URL", datosbot.Action{DataURLs: []string{accidentes + "/resource/1"}, PublishedOn: started}, false},
		{"names another campaign, no URL", datosbot.Action{Campaign: "K7P2", PublishedOn: started}, false},
		{"names another campaign but mentions a URL", datosbot.Action{Campaign: "K7P2", DataURLs: []string{accidentes}, PublishedOn: started}, true},
		{"neither campaign nor URL", datosbot.Action{PublishedOn: started}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.a.Institution = "inegi"
			if got := c.Completes(tt.a, loc); got != tt.want {
				t.Errorf("Completes(campaign %s, action %+v) = %v, want %v", c.ID, tt.a, got, tt.want)
			}
		})
	}
}

func TestCampaignCompletesUsesLocalStartDay(t *testing.T) {
	// The same campaign read in UTC started on the 10th: an action of the
	// 9th is then too early. The day depends on the location given.
	c := datosbot.Campaign{ID: "C3M9", DataURLs: []string{"https://datos.gob.mx/dataset/x"},
		CreatedAt: time.Date(2026, 11, 10, 5, 30, 0, 0, time.UTC)}
	a := datosbot.Action{DataURLs: c.DataURLs, PublishedOn: datosbot.Date{Year: 2026, Month: time.November, Day: 9}}
	if got := c.Completes(a, time.UTC); got {
		t.Errorf("Completes in UTC = %v, want false (the campaign started on the 10th there)", got)
	}
}
