import assert from "node:assert/strict";
import { test } from "node:test";
import { choosePython, expandSetting, formatCommand, pythonFromExtension, type PythonExtensionApi } from "../../src/extension/interpreter";

test("the setting wins over the Python extension", async () => {
  let asked = false;
  const python = await choosePython({
    setting: "  /opt/venv/bin/python ",
    pythonExtension: async () => {
      asked = true;
      return { settings: { getExecutionDetails: () => ({ execCommand: ["/usr/bin/python3.12"] }) } };
    },
  });
  assert.deepEqual(python, { command: "/opt/venv/bin/python", args: [], source: "setting" });
  assert.equal(asked, false, "the Python extension is not activated when the setting is given");
});

test("the setting expands ${workspaceFolder}, ~ and relative paths", () => {
  assert.equal(expandSetting("${workspaceFolder}/.venv/bin/python", "/w"), "/w/.venv/bin/python");
  assert.equal(expandSetting("~/venv/bin/python", "/w", "/home/me"), "/home/me/venv/bin/python");
  assert.equal(expandSetting("${userHome}/py", undefined, "/home/me"), "/home/me/py");
  assert.equal(expandSetting(".venv/bin/python", "/w/"), "/w/.venv/bin/python");
  assert.equal(expandSetting("./.venv/bin/python", "/w"), "/w/.venv/bin/python");
  assert.equal(expandSetting("python3.12", "/w"), "python3.12", "a bare name stays a PATH lookup");
});

test("the Python extension's environments API: the resolved executable", async () => {
  const api: PythonExtensionApi = {
    environments: {
      getActiveEnvironmentPath: () => ({ id: "x", path: "/envs/x" }),
      resolveEnvironment: async () => ({ executable: { uri: { fsPath: "/envs/x/bin/python" } } }),
    },
  };
  assert.deepEqual(await pythonFromExtension(api), ["/envs/x/bin/python"]);
  const python = await choosePython({ setting: "", pythonExtension: async () => api });
  assert.deepEqual(python, { command: "/envs/x/bin/python", args: [], source: "python-extension" });
});

test("the environments API without resolution gives the active path", async () => {
  const api: PythonExtensionApi = {
    environments: {
      getActiveEnvironmentPath: () => ({ path: "/usr/bin/python3.11" }),
      resolveEnvironment: async () => {
        throw new Error("cannot resolve");
      },
    },
  };
  assert.deepEqual(await pythonFromExtension(api), ["/usr/bin/python3.11"]);
});

test("the older settings API: a command with arguments (conda run)", async () => {
  const api: PythonExtensionApi = {
    settings: { getExecutionDetails: () => ({ execCommand: ["conda", "run", "-n", "ml", "python"] }) },
  };
  const python = await choosePython({ pythonExtension: async () => api });
  assert.deepEqual(python, { command: "conda", args: ["run", "-n", "ml", "python"], source: "python-extension" });
  assert.equal(formatCommand(python, ["-m", "dvcstage_lsp"]), "conda run -n ml python -m dvcstage_lsp");
});

test("python3 when there is no setting and no Python extension, or it fails", async () => {
  const fallback = { command: "python3", args: [], source: "default" };
  assert.deepEqual(await choosePython({}), fallback);
  assert.deepEqual(await choosePython({ setting: "   ", pythonExtension: async () => undefined }), fallback);
  assert.deepEqual(
    await choosePython({
      pythonExtension: async () => {
        throw new Error("activation failed");
      },
    }),
    fallback,
  );
  assert.deepEqual(await choosePython({ pythonExtension: async () => ({ settings: { getExecutionDetails: () => ({ execCommand: [] }) } }) }), fallback);
});

test("formatCommand quotes what a shell would split", () => {
  assert.equal(formatCommand({ command: "/opt/my env/python", args: [], source: "setting" }, ["-m", "pip"]), "'/opt/my env/python' -m pip");
});
