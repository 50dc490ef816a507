package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The agent runs on a department's front-end processor: it must not carry the
// hub's code, nor the embedded broker.
func TestAgentLinksNoHubCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/tongban/tongban/hub") || strings.Contains(dep, "franz-go/pkg/kfake") {
			t.Errorf("the agent binary links %s", dep)
		}
	}
}
