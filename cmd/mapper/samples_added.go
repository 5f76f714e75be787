package main

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/mapperhq/mapper/mapper"
	"github.com/mapperhq/mapper/mapper/samples"
)

// printAdded reports what samples add did: per category of the source,
// the records this import added, and what the samples directory holds now
// (records seen in all, samples kept on disk), the categories with most
// records first. The kept counts are read back from disk, so they are what
// replay will find.
func printAdded(w io.Writer, dir string, src *mapper.Source, payloads, files int, added map[string]uint64) error {
	list, err := samples.List(dir)
	if err != nil {
		return err
	}
	onDisk := map[string]samples.CategoryInfo{}
	kept := 0
	for _, c := range list {
		if c.Source == src.Name() {
			onDisk[c.Category] = c
			kept += c.Kept
		}
	}
	cats := make([]string, 0, len(added))
	for c := range added {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		if added[cats[i]] != added[cats[j]] {
			return added[cats[i]] > added[cats[j]]
		}
		return cats[i] < cats[j]
	})
	fmt.Fprintf(w, "mapped %d payloads from %d files with %s rules v%d; %s now holds %d samples of %s\n",
		payloads, files, src.Name(), src.Version(), dir, kept, src.Name())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tADDED\tSEEN IN ALL\tKEPT ON DISK")
	for _, c := range cats {
		d := onDisk[c]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", c, added[c], seenText(d.Seen), d.Kept)
	}
	return tw.Flush()
}
