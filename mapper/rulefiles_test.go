package mapper_test

import (
	"testing"

	"github.com/mapperhq/mapper/mapper"
)

func TestLoadLeavesRuleTestsOut(t *testing.T) {
	rules, schemas := writeRules(t, map[string]string{
		"rules/a.yaml":      goodRule,
		"rules/a.test.yaml": "cases:\n  - name: not a rule file\n    payload: {}\n",
		"rules/b.test.yml":  "cases: []\n",
	})
	eng, err := mapper.Load(rules, schemas, mapper.Options{})
	if err != nil {
		t.Fatalf("a rule test was loaded as a rule file: %v", err)
	}
	if got := len(eng.Sources()); got != 1 {
		t.Errorf("%d sources, want 1", got)
	}
}

func TestRuleFileNames(t *testing.T) {
	tests := []struct {
		name       string
		rule, test bool
	}{
		{"orders.yaml", true, false},
		{"orders.yml", true, false},
		{"orders.test.yaml", false, true},
		{"orders.test.yml", false, true},
		{"orders.json", false, false},
		{"test.yaml", true, false},
	}
	for _, tt := range tests {
		if got := mapper.IsRuleFile(tt.name); got != tt.rule {
			t.Errorf("IsRuleFile(%q) = %v, want %v", tt.name, got, tt.rule)
		}
		if got := mapper.IsRuleTestFile(tt.name); got != tt.test {
			t.Errorf("IsRuleTestFile(%q) = %v, want %v", tt.name, got, tt.test)
		}
	}
}
