// Package didyoumean finds the name a user most likely meant: the rule
// checks use it for unknown transforms and fields, the command line for
// unknown commands, flags and configuration keys. It keeps no state and is
// safe for concurrent use.
package didyoumean

import "strings"

// Closest returns the candidate closest to s when s is a likely typo of it:
// at most two edits away, or a prefix of it at least three letters long
// ("upper" for "uppercase"), ignoring case. It returns "" when no candidate
// is that close; on a tie the first candidate wins.
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if len(s) > len(c)+len(c)+2 {
			continue // far longer than c: neither a typo nor a prefix of it
		}
		lc := strings.ToLower(c)
		d := Distance(ls, lc)
		if d >= bestD && len(ls) >= 3 && (strings.HasPrefix(lc, ls) || strings.HasPrefix(ls, lc)) {
			d = 2
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance of a and b, counted in bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
