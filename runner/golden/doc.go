// Package golden implements regen's golden store: the committed golden
// images and their JSON records under golden/<environment class>/<workflow>/
// <case file>.{png,json}, and the approve step that promotes a finished
// run's candidates to goldens.
//
// Approve only touches outputs whose verdict was "new" or "fail" and whose
// case id the filter selects; a golden that passed (pass or pass~) is never
// rewritten. Every write is atomic (temp file + rename), so an interrupted
// approve leaves the old golden intact and no temporary file behind.
package golden
