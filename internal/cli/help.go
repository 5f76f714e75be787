package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// PrintFlags writes the flags of fs, in lexical order, each with its
// usage, its declared default (never a secret's) and the environment
// variable that sets it:
//
//	--brokers string
//	    comma-separated bootstrap brokers (default "localhost:9092"; env MAPPER_BROKERS)
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if kind != "" {
			head += " " + kind
		}
		var notes []string
		if d := defaultText(f); d != "" {
			notes = append(notes, "default "+d)
		}
		notes = append(notes, "env "+EnvName(f.Name))
		fmt.Fprintf(w, "%s\n      %s (%s)\n", head, strings.ReplaceAll(usage, "\n", "\n      "), strings.Join(notes, "; "))
	})
}

// defaultText is a flag's declared default as help shows it, or "" when
// it is the zero value of its kind or the flag holds a secret.
func defaultText(f *flag.Flag) string {
	if Secret(f.Name) || f.DefValue == "" {
		return ""
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case string:
			return fmt.Sprintf("%q", f.DefValue)
		case bool:
			if f.DefValue == "false" {
				return ""
			}
		case time.Duration:
			if f.DefValue == "0s" {
				return ""
			}
		case int, int64, uint, uint64, float64:
			if f.DefValue == "0" {
				return ""
			}
		}
	}
	return f.DefValue
}
