#!/usr/bin/env node
// Writes deploy/grafana/kubeplus-dashboard.json from dashboard.ts (make generate).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubeplusDashboard } from "./dashboard.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const DASHBOARD_FILE = join(root, "deploy", "grafana", "kubeplus-dashboard.json");

mkdirSync(dirname(DASHBOARD_FILE), { recursive: true });
writeFileSync(DASHBOARD_FILE, `${JSON.stringify(kubeplusDashboard(), null, 2)}\n`);
