import { describe, expect, test } from 'vitest';
import {
  containsPythonHome,
  createsPythonEnvironment,
  installsPythonPackages,
  isPythonEnvironmentPath,
} from '../../src/dockerfile/python.js';

describe('installsPythonPackages', () => {
  test.each([
    'pip install flask',
    'pip3 install -r requirements.txt',
    'pip3.11 install --user x',
    'pip --no-cache-dir install x',
    '/venv/bin/pip install x',
    'python -m pip install x',
    'python3.12 -m pip install --upgrade pip',
    'uv pip install --system x',
    'uv sync --frozen',
    'poetry install --only main',
    'pipenv install --deploy',
    'pdm install --prod',
    'conda install -y numpy',
    'micromamba create -n app python=3.11',
    'apt-get update && apt-get install -y --no-install-recommends python3-numpy',
    'apt-get -y install python3',
    'apk add --no-cache py3-numpy',
    'dnf install -y python3.11',
  ])('recognises %j', (command) => {
    expect(installsPythonPackages(command)).toBe(true);
  });

  test.each([
    'pip wheel --wheel-dir /wheels x',
    'pip download x',
    'python -m venv /venv',
    'apt-get install -y curl libpython3.11',
    'npm install',
    'echo pip',
    'go install example.com/tool@latest',
  ])('ignores %j', (command) => {
    expect(installsPythonPackages(command)).toBe(false);
  });
});

describe('createsPythonEnvironment', () => {
  test.each(['python -m venv /venv', 'python3 -m virtualenv /v', 'virtualenv /v', 'uv venv'])(
    'counts %j',
    (command) => {
      expect(createsPythonEnvironment(command)).toBe(true);
    },
  );
});

describe('isPythonEnvironmentPath', () => {
  test.each([
    ['/usr/local/lib/python3.11/site-packages', true],
    ['/usr/lib/python3/dist-packages', true],
    ['/app/.venv', true],
    ['/venv/', true],
    ['/usr/local/lib/python3.*', true],
    ['/app/src', false],
    ['/opt/venvironment', false],
  ])('%s: %s', (path, expected) => {
    expect(isPythonEnvironmentPath(path)).toBe(expected);
  });
});

describe('containsPythonHome', () => {
  test.each([
    ['/', true],
    ['/usr', true],
    ['/usr/local', true],
    ['/opt', true],
    ['/etc', false],
    ['/usr/local/bin', false],
  ])('%s: %s', (root, expected) => {
    expect(containsPythonHome(root)).toBe(expected);
  });
});
