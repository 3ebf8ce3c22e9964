package datosbot

import (
	"strings"
	"unicode/utf8"
)

var foldReplacer = strings.NewReplacer(
	"á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n",
	"Á", "a", "É", "e", "Í", "i", "Ó", "o", "Ú", "u", "Ü", "u", "Ñ", "n",
)

// Fold lower-cases s and removes Spanish accents, so that "Campaña" and
// "campana" compare equal.
func Fold(s string) string { return strings.ToLower(foldReplacer.Replace(strings.TrimSpace(s))) }

// Truncate shortens s to at most n runes, marking the cut with "…".
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
