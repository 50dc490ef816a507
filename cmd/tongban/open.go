package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"
)

// runOpen serves "tongban open publish CODE" and "tongban open list": the
// open-data portal of a running hub, through its HTTP API.
//
//	tongban open publish [-config hub.yaml] [-hub URL] [-token TOKEN] CODE
//	tongban open list    [-config hub.yaml] [-hub URL] [-json]
func runOpen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: open: want publish or list", errUsage)
	}
	switch args[0] {
	case "publish":
		return openPublish(ctx, args[1:], stdout, stderr)
	case "list":
		return openList(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: open %s: want publish or list", errUsage, args[0])
}

// openReleaseJSON is the part of a release manifest the CLI prints.
type openReleaseJSON struct {
	Resource    string    `json:"resource"`
	Number      int64     `json:"number"`
	Name        string    `json:"name"`
	PublishedAt time.Time `json:"published_at"`
	Rows        int64     `json:"rows"`
	Files       map[string]struct {
		Bytes  int64  `json:"bytes"`
		SHA256 string `json:"sha256"`
		URL    string `json:"url"`
	} `json:"files"`
	Fields []struct {
		Name        string `json:"name"`
		Treatment   string `json:"treatment"`
		TreatmentZH string `json:"treatment_zh"`
	} `json:"fields"`
}

func openPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("open publish", flag.ContinueOnError)
	opts := addHubFlags(fs)
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: open publish: give exactly one resource code (资源代码), e.g. MR-LP-001", errUsage)
	}
	// Publishing reads every record of the resource: allow for a long build.
	c, err := opts.client("open publish (an admin token: tongban token create -admin)", true, 30*time.Minute)
	if err != nil {
		return err
	}
	var rel openReleaseJSON
	if err := c.call(ctx, http.MethodPost, "/api/v1/open/releases", map[string]string{"resource": pos[0]}, &rel); err != nil {
		return err
	}
	base := c.base
	fmt.Fprintf(stdout, "已发布 published %s 第 %d 版 (release %d) %s: %d 行 rows, %s\n", rel.Resource, rel.Number, rel.Number, rel.Name,
		rel.Rows, rel.PublishedAt.Local().Format(time.DateTime))
	for _, f := range []string{"csv", "parquet"} {
		if file, ok := rel.Files[f]; ok {
			fmt.Fprintf(stdout, "  %-7s %12d bytes  sha256 %s\n          %s%s\n", f, file.Bytes, file.SHA256, base, file.URL)
		}
	}
	var treat []string
	for _, f := range rel.Fields {
		treat = append(treat, f.Name+" "+f.TreatmentZH+" ("+f.Treatment+")")
	}
	fmt.Fprintf(stdout, "  信息项 fields: %s\n", strings.Join(treat, ", "))
	return nil
}

func openList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("open list", flag.ContinueOnError)
	opts := addHubFlags(fs)
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: open list: unexpected argument %q", errUsage, pos[0])
	}
	c, err := opts.client("open list", false, time.Minute)
	if err != nil {
		return err
	}
	var out struct {
		Datasets []struct {
			Code          string           `json:"code"`
			Title         string           `json:"title"`
			Provider      string           `json:"provider"`
			ProviderName  string           `json:"provider_name"`
			UpdateCycle   string           `json:"update_cycle"`
			UpdateCycleZH string           `json:"update_cycle_zh"`
			Latest        *openReleaseJSON `json:"latest_release"`
		} `json:"datasets"`
	}
	raw, err := c.do(ctx, http.MethodGet, "/open/v1/datasets", nil)
	if err != nil {
		return err
	}
	if *opts.asJSON {
		_, err := fmt.Fprintf(stdout, "%s\n", raw)
		return err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("hub: answer is not the JSON expected: %w", err)
	}
	if len(out.Datasets) == 0 {
		fmt.Fprintln(stderr, "目录中没有无条件开放的资源 / no resource of the catalog is open")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\t名称 TITLE\t提供部门 PROVIDER\t更新周期 CYCLE\t最新版本 RELEASE\t行数 ROWS\t发布时间 PUBLISHED")
	for _, d := range out.Datasets {
		prov := d.ProviderName
		if prov == "" {
			prov = d.Provider
		}
		rel, rows, at := "-", "-", "-"
		if d.Latest != nil {
			rel, rows, at = fmt.Sprint(d.Latest.Number), fmt.Sprint(d.Latest.Rows), d.Latest.PublishedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\t%s\t%s\t%s\n", d.Code, cell(d.Title), cell(prov), d.UpdateCycleZH, d.UpdateCycle, rel, rows, at)
	}
	return tw.Flush()
}
