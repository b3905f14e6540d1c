// Package suggest finds what a user probably meant: the known word nearest a mistyped one.
package suggest

import "strings"

// Nearest returns the candidate closest to word (case-insensitive edit distance), or "" when
// none is close: within a third of the word's length, and at least one edit.
func Nearest(word string, candidates []string) string {
	best, bestDist := "", len(word)/3+1
	w := strings.ToLower(word)
	for _, c := range candidates {
		if d := distance(w, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean returns " (did you mean X?)" for the nearest candidate, or "".
func DidYouMean(word string, candidates []string) string {
	if n := Nearest(word, candidates); n != "" && n != word {
		return " (did you mean " + n + "?)"
	}
	return ""
}

// distance is the edit distance between a and b, a swap of two neighbours counting as one
// edit (optimal string alignment): "cahce" is one edit from "cache".
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
