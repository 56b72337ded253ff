// The extension's entry point (placeholder until the extension lands).
import type * as vscode from "vscode";

export function activate(_context: vscode.ExtensionContext): void {}

export function deactivate(): void {}
