#!/usr/bin/env node
// Entry for global installs: runs the compiled CLI.
import '../dist/cli/main.js';
