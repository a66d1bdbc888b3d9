package bisect

import "testing"

// search runs the bisection loop of Run over n candidates whose first bad
// index is firstBad, with the given indices failing to prepare; it returns
// the tested indices and the answer.
func search(n, firstBad int, broken map[int]bool) (tested []int, answer int) {
	lo, hi := -1, n-1
	skipped := map[int]bool{}
	for hi-lo > 1 {
		mid := pick(lo, hi, skipped)
		if mid < 0 {
			break
		}
		tested = append(tested, mid)
		switch {
		case broken[mid]:
			skipped[mid] = true
		case mid >= firstBad:
			hi = mid
		default:
			lo = mid
		}
	}
	return tested, hi
}

func TestPickFindsTheFirstBadInLogSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n, bad   int
		broken   map[int]bool
		maxSteps int
	}{
		{"11 candidates, bad at 5 (commit 7 of 1..12)", 11, 5, nil, 4},
		{"with a broken candidate on the path", 11, 5, map[int]bool{2: true}, 5},
		{"bad is the last", 11, 10, nil, 4},
		{"bad is the first", 11, 0, nil, 4},
		{"one candidate", 1, 0, nil, 0},
		{"100 candidates", 100, 37, nil, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tested, got := search(tt.n, tt.bad, tt.broken)
			if got != tt.bad {
				t.Errorf("answer %d, want %d (tested %v)", got, tt.bad, tested)
			}
			if len(tested) > tt.maxSteps {
				t.Errorf("%d steps %v, want at most %d", len(tested), tested, tt.maxSteps)
			}
		})
	}
}

func TestPickSkipsAndGivesUp(t *testing.T) {
	t.Parallel()
	if got := pick(0, 4, map[int]bool{2: true}); got != 3 && got != 1 {
		t.Errorf("pick around a skipped midpoint = %d", got)
	}
	if got := pick(0, 3, map[int]bool{1: true, 2: true}); got != -1 {
		t.Errorf("pick with everything skipped = %d, want -1", got)
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	b := &bisector{}
	strict := &bisector{opts: Options{Strict: true}}
	tests := []struct {
		name  string
		b     *bisector
		cases map[string]string
		want  string
	}{
		{"all pass", b, map[string]string{"a": "pass", "b": "pass~"}, Good},
		{"a fail", b, map[string]string{"a": "pass", "b": "fail"}, Bad},
		{"pass~ under strict", strict, map[string]string{"a": "pass~"}, Bad},
		{"an error cannot be judged", b, map[string]string{"a": "pass", "b": "error"}, Skip},
		{"a fail beats an error", b, map[string]string{"a": "error", "b": "fail"}, Bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.b.judge(tt.cases); got != tt.want {
				t.Errorf("judge = %s, want %s", got, tt.want)
			}
		})
	}
}
