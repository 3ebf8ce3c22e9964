package commands

import (
	"reflect"
	"strings"
	"testing"

	"github.com/datosbot/datosbot"
)

func TestParseAnnouncement(t *testing.T) {
	const (
		data  = "https://www.datos.gob.mx/dataset/accidentes_transito"
		data2 = "https://datos.gob.mx/busca/dataset/covid-19"
		tweet = "https://x.com/INEGI_INFORMA/status/1866"
		site  = "https://www.inegi.gob.mx/boletin/2026"
	)
	today := datosbot.Date{Year: 2026, Month: 11, Day: 20}
	tests := []struct {
		name    string
		line    string
		want    datosbot.Action
		wantErr string // a piece of the Spanish refusal; "" means accepted
	}{
		{name: "data and publication, medium inferred, today",
			line: "anunciar " + data + " " + tweet,
			want: datosbot.Action{DataURLs: []string{data}, EvidenceURL: tweet, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion, PublishedOn: today}},
		{name: "a gob.mx page is web",
			line: "anunciar " + data + " " + site,
			want: datosbot.Action{DataURLs: []string{data}, EvidenceURL: site, Medium: datosbot.MediumWeb, Type: datosbot.TypePublicacion, PublishedOn: today}},
		{name: "several data URLs, comma-separated and repeated",
			line: "anunciar " + data + "," + data2 + " " + tweet,
			want: datosbot.Action{DataURLs: []string{data, data2}, EvidenceURL: tweet, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion, PublishedOn: today}},
		{name: "data URLs as separate arguments",
			line: "anunciar " + data + " " + data2 + " " + tweet,
			want: datosbot.Action{DataURLs: []string{data, data2}, EvidenceURL: tweet, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion, PublishedOn: today}},
		{name: "datos: option, the only positional URL is the publication",
			line: "anunciar datos:" + data + " " + tweet,
			want: datosbot.Action{DataURLs: []string{data}, EvidenceURL: tweet, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion, PublishedOn: today}},
		{name: "datos: option plus positional data URLs",
			line: "anunciar datos:" + data + " " + data2 + " " + tweet,
			want: datosbot.Action{DataURLs: []string{data, data2}, EvidenceURL: tweet, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion, PublishedOn: today}},
		{name: "options and a note in words and in nota:",
			line: "anunciar " + data + " " + tweet + ` medio:otro tipo:uso fecha:2026-11-02 nota:"primera parte" y segunda`,
			want: datosbot.Action{DataURLs: []string{data}, EvidenceURL: tweet, Medium: datosbot.MediumOtro, Type: datosbot.TypeUso,
				PublishedOn: datosbot.Date{Year: 2026, Month: 11, Day: 2}, Note: "primera parte y segunda"}},
		{name: "a URL after the note is part of the note",
			line: "anunciar " + data + " " + tweet + " ver también " + site,
			want: datosbot.Action{DataURLs: []string{data}, EvidenceURL: tweet, Medium: datosbot.MediumRedes, Type: datosbot.TypePublicacion, PublishedOn: today,
				Note: "ver también " + site}},
		{name: "only one URL", line: "anunciar " + data, wantErr: "Faltan URLs"},
		{name: "no URL, only words", line: "anunciar publiqué algo", wantErr: "Faltan URLs"},
		{name: "data URL on another host", line: "anunciar https://example.com/dataset/x " + tweet, wantErr: "datos.gob.mx"},
		{name: "publication equal to the data URL", line: "anunciar " + data + " " + data, wantErr: "distinta"},
		{name: "unknown medium", line: "anunciar " + data + " " + tweet + " medio:radio", wantErr: "radio"},
		{name: "unknown type", line: "anunciar " + data + " " + tweet + " tipo:otro", wantErr: "otro"},
		{name: "bad date", line: "anunciar " + data + " " + tweet + " fecha:20-11-2026", wantErr: "AAAA-MM-DD"},
		{name: "note too long", line: "anunciar " + data + " " + tweet + " " + strings.Repeat("a", datosbot.MaxNoteLen+1), wantErr: "nota es demasiado larga"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAnnouncement(Parse(tt.line), datosbot.DefaultDataHosts, today)
			if tt.wantErr != "" {
				if err == nil || datosbot.ErrorCode(err) != datosbot.EINVALID || !strings.Contains(datosbot.ErrorMessage(err), tt.wantErr) {
					t.Fatalf("parseAnnouncement(%q) error = %v, want an invalid-input refusal mentioning %q", tt.line, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseAnnouncement(%q) refused: %v", tt.line, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseAnnouncement(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}
