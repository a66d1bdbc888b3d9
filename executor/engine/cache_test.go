package engine

import (
	"strings"
	"testing"
)

func planFor(t *testing.T, prompt string) *plan {
	t.Helper()
	g, perr := decodeGraph([]byte(prompt))
	if perr != nil {
		t.Fatalf("decode: %+v", perr)
	}
	p, verr, _ := testValidator(t).validate(g, nil)
	if verr != nil {
		t.Fatalf("validate: %+v", verr)
	}
	return p
}

func sigsFor(t *testing.T, prompt, nonce string) map[string]string {
	t.Helper()
	p := planFor(t, prompt)
	sigs, err := signatures(p, func(vn *vnode) (string, bool) {
		if vn.class == "TestAlways" {
			return "", true
		}
		return "", false
	}, nonce)
	if err != nil {
		t.Fatalf("signatures: %v", err)
	}
	return sigs
}

func TestSignatures(t *testing.T) {
	t.Parallel()
	base := `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestConst", "inputs": {"value": 2}},
		"3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}}, "4": {"class_type": "TestOut", "inputs": {"value": ["3", 0]}}}`
	tests := []struct {
		name  string
		other string
		nonce string
		// pairs of (node in base, node in other) whose signatures must be
		// equal, and pairs that must differ.
		same, diff [][2]string
	}{
		{
			name: "node ids do not matter",
			other: `{"a": {"class_type": "TestConst", "inputs": {"value": 1}}, "b": {"class_type": "TestConst", "inputs": {"value": 2}},
				"c": {"class_type": "TestAdd", "inputs": {"b": ["b", 0], "a": ["a", 0]}}, "d": {"class_type": "TestOut", "inputs": {"value": ["c", 0]}}}`,
			same: [][2]string{{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "d"}},
		},
		{
			name: "a constant change invalidates downstream only",
			other: `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestConst", "inputs": {"value": 5}},
				"3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}}, "4": {"class_type": "TestOut", "inputs": {"value": ["3", 0]}}}`,
			same: [][2]string{{"1", "1"}},
			diff: [][2]string{{"2", "2"}, {"3", "3"}, {"4", "4"}},
		},
		{
			name: "swapped links differ",
			other: `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestConst", "inputs": {"value": 2}},
				"3": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": ["1", 0]}}, "4": {"class_type": "TestOut", "inputs": {"value": ["3", 0]}}}`,
			diff: [][2]string{{"3", "3"}, {"4", "4"}},
		},
		{
			name: "int and float constants differ",
			other: `{"1": {"class_type": "TestConst", "inputs": {"value": 1}}, "2": {"class_type": "TestConst", "inputs": {"value": 2}},
				"3": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": ["2", 0]}}, "4": {"class_type": "TestOut", "inputs": {"value": 3.5}}}`,
			diff: [][2]string{{"4", "4"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := sigsFor(t, base, "n1")
			b := sigsFor(t, tc.other, "n2")
			for _, p := range tc.same {
				if a[p[0]] != b[p[1]] {
					t.Errorf("signature of %s and %s differ", p[0], p[1])
				}
			}
			for _, p := range tc.diff {
				if a[p[0]] == b[p[1]] {
					t.Errorf("signature of %s and %s are equal", p[0], p[1])
				}
			}
		})
	}
}

func TestSignatureNodeIDWhenNotIdempotent(t *testing.T) {
	t.Parallel()
	a := sigsFor(t, `{"1": {"class_type": "TestUnique", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`, "n")
	b := sigsFor(t, `{"9": {"class_type": "TestUnique", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {"value": ["9", 0]}}}`, "n")
	c := sigsFor(t, `{"1": {"class_type": "TestUnique", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`, "m")
	if a["1"] == b["9"] || a["2"] == b["2"] {
		t.Errorf("NotIdempotent node with another id got the same signature")
	}
	if a["1"] != c["1"] {
		t.Errorf("same NotIdempotent node and id got different signatures")
	}
}

func TestSignatureAlwaysChanged(t *testing.T) {
	t.Parallel()
	prompt := `{"1": {"class_type": "TestAlways", "inputs": {"value": 1}}, "2": {"class_type": "TestOut", "inputs": {"value": ["1", 0]}}}`
	a := sigsFor(t, prompt, "n1")
	b := sigsFor(t, prompt, "n2")
	if a["1"] == b["1"] || a["2"] == b["2"] {
		t.Errorf("an always-changed node (IS_CHANGED NaN) matched between prompts")
	}
}

func TestOutputCacheRetain(t *testing.T) {
	t.Parallel()
	c := newOutputCache()
	c.put("a", &cacheEntry{})
	c.put("b", &cacheEntry{})
	c.retain(map[string]bool{"b": true, "z": true})
	if _, ok := c.get("a"); ok {
		t.Errorf("entry a survived a prompt that does not use it")
	}
	if _, ok := c.get("b"); !ok {
		t.Errorf("entry b was dropped although the prompt uses it")
	}
}

// TestOutsideSignatures: the nodes outside the plan get a signature when
// every node they depend on has one or gets one (in the plan, or outside
// and signable, whatever the prompt order), and none when they depend,
// however deep, on a missing node or sit on or below a cycle.
func TestOutsideSignatures(t *testing.T) {
	t.Parallel()
	vn := func(id string, from ...string) *vnode {
		v := &vnode{id: id, class: "TestConst", links: map[string]link{}}
		for i, f := range from {
			name := string(rune('a' + i))
			v.inputs = append(v.inputs, name)
			v.links[name] = link{From: f}
		}
		return v
	}
	inPlan := map[string]*vnode{"1": vn("1")}
	outside := map[string]*vnode{
		"12": vn("12", "5"),       // before its dependency in prompt order
		"5":  vn("5", "1"),        // on a plan node
		"13": vn("13", "7"),       // two levels above a missing node
		"7":  vn("7", "6", "1"),   // one level above it
		"6":  vn("6", "9"),        // "9" is in no map
		"10": vn("10", "11"),      // a cycle
		"11": vn("11", "10"),      //
		"14": vn("14", "1", "11"), // below the cycle
		"15": vn("15", "12", "5"), // a diamond over signed nodes
	}
	p := &plan{
		g:       &graph{Order: []string{"1", "12", "5", "13", "7", "6", "10", "11", "14", "15"}},
		nodes:   inPlan,
		outputs: []string{"1"},
		outside: outside,
	}
	never := func(*vnode) (string, bool) { return "", false }
	sigs, err := signatures(p, never, "n")
	if err != nil {
		t.Fatal(err)
	}
	outsideSignatures(p, sigs, never, "n")
	for _, id := range []string{"1", "12", "5", "15"} {
		if sigs[id] == "" {
			t.Errorf("node %s: no signature, want one", id)
		}
	}
	for _, id := range []string{"13", "7", "6", "10", "11", "14"} {
		if s, ok := sigs[id]; ok {
			t.Errorf("node %s: signature %s, want none", id, s)
		}
	}
	if len(sigs) != 4 {
		t.Errorf("got %d signatures, want 4: %v", len(sigs), sigs)
	}
	// A signature does not depend on the walk that made it: 5 reached from
	// 12 is 5 signed on its own.
	alone := &plan{g: &graph{Order: []string{"1", "5"}}, nodes: inPlan, outputs: []string{"1"},
		outside: map[string]*vnode{"5": outside["5"]}}
	sigs2, err := signatures(alone, never, "n")
	if err != nil {
		t.Fatal(err)
	}
	outsideSignatures(alone, sigs2, never, "n")
	if sigs2["5"] != sigs["5"] {
		t.Errorf("node 5: %s alone, %s reached from 12", sigs2["5"], sigs["5"])
	}
}

// TestSignaturesCycle: a cycle in the plan is an error naming a node on it.
func TestSignaturesCycle(t *testing.T) {
	t.Parallel()
	a := &vnode{id: "a", class: "TestConst", inputs: []string{"x"}, links: map[string]link{"x": {From: "b"}}}
	b := &vnode{id: "b", class: "TestConst", inputs: []string{"x"}, links: map[string]link{"x": {From: "a"}}}
	p := &plan{g: &graph{Order: []string{"a", "b"}}, nodes: map[string]*vnode{"a": a, "b": b}, outputs: []string{"a"}}
	_, err := signatures(p, func(*vnode) (string, bool) { return "", false }, "n")
	if err == nil || !strings.Contains(err.Error(), "dependency cycle through node a") {
		t.Errorf("err = %v, want a dependency cycle through node a", err)
	}
}
