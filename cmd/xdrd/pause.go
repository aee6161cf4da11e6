package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// pauseCmd pauses (or with resume, resumes) applying a link at its
// destination's daemon: `xdrd pause --admin ADDR --source REGION`.
func pauseCmd(args []string, stdout, stderr io.Writer, action string) int {
	fs := flag.NewFlagSet(action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("admin", "127.0.0.1:7070", "admin HTTP address of the link's destination")
	source := fs.String("source", "", "source region of the link (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *source == "" {
		fmt.Fprintf(stderr, "xdrd %s: --source is required\n", action)
		return 2
	}

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post("http://"+*addr+"/v1/links/"+*source+"/"+action, "", nil)
	if err != nil {
		fmt.Fprintf(stderr, "xdrd %s: %v\n", action, err)
		return 1
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "xdrd %s: %s: %s\n", action, resp.Status, body["error"])
		return 1
	}
	fmt.Fprintf(stdout, "link from %s at %s: %s\n", *source, *addr, body["state"])
	return 0
}
