package ruletest

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/valyala/fastjson"
)

// drift is a change of a case's payload: the paths to delete, then the
// values to set. It turns a real payload into the drifted shapes a third
// party sends (a field dropped, added, or of another type) without copying
// the payload by hand.
type drift struct {
	del []posPath
	set []setOp
}

type posPath struct {
	path string
	node ast.Node
}

type setOp struct {
	posPath
	value []byte // JSON
}

// apply parses payload as JSON, deletes and sets, and serialises it again,
// keeping the order of the keys it leaves. Paths are dot-separated keys;
// a number indexes an array ("issue.labels.0.name"). Deleting needs the
// path to exist, setting needs its parent to.
func (d *drift) apply(payload []byte) ([]byte, *convErr) {
	var p fastjson.Parser
	doc, err := p.ParseBytes(payload)
	if err != nil {
		node := ast.Node(nil)
		if len(d.del) > 0 {
			node = d.del[0].node
		} else if len(d.set) > 0 {
			node = d.set[0].node
		}
		return nil, &convErr{node, "delete and set need a JSON payload: " + err.Error()}
	}
	for _, op := range d.del {
		parent, last, msg := walkTo(doc, op.path)
		if msg == "" && get(parent, last) == nil {
			msg = "nothing at " + op.path + " to delete"
		}
		if msg != "" {
			return nil, &convErr{op.node, msg}
		}
		parent.Del(last)
	}
	for _, op := range d.set {
		parent, last, msg := walkTo(doc, op.path)
		if msg != "" {
			return nil, &convErr{op.node, msg}
		}
		if parent.Type() == fastjson.TypeArray && get(parent, last) == nil {
			return nil, &convErr{op.node, "set " + op.path + ": no such array element"}
		}
		var vp fastjson.Parser // one per value: v keeps its memory
		v, err := vp.ParseBytes(op.value)
		if err != nil {
			return nil, &convErr{op.node, "set " + op.path + ": " + err.Error()}
		}
		parent.Set(last, v)
	}
	return doc.MarshalTo(nil), nil
}

// walkTo finds the parent of path's last segment.
func walkTo(doc *fastjson.Value, path string) (*fastjson.Value, string, string) {
	segs := strings.Split(path, ".")
	cur := doc
	for i, seg := range segs[:len(segs)-1] {
		next := get(cur, seg)
		if next == nil {
			return nil, "", "no " + strings.Join(segs[:i+1], ".") + " in the payload"
		}
		cur = next
	}
	if t := cur.Type(); t != fastjson.TypeObject && t != fastjson.TypeArray {
		return nil, "", "the parent of " + path + " is not an object or an array"
	}
	return cur, segs[len(segs)-1], ""
}

func get(v *fastjson.Value, seg string) *fastjson.Value {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		return o.Get(seg)
	case fastjson.TypeArray:
		i, err := strconv.Atoi(seg)
		a, _ := v.Array()
		if err != nil || i < 0 || i >= len(a) {
			return nil
		}
		return a[i]
	}
	return nil
}
