/* One libpq connection attempt, for pgping: proves the shared library is there and callable. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <libpq-fe.h>

static PyObject *ping(PyObject *self, PyObject *args) {
    const char *conninfo;
    if (!PyArg_ParseTuple(args, "s", &conninfo)) return NULL;
    PGconn *conn;
    Py_BEGIN_ALLOW_THREADS
    conn = PQconnectdb(conninfo);
    Py_END_ALLOW_THREADS
    int ok = PQstatus(conn) == CONNECTION_OK;
    PyObject *result = Py_BuildValue("(Os)", ok ? Py_True : Py_False, PQerrorMessage(conn));
    PQfinish(conn);
    return result;
}

static PyObject *library_version(PyObject *self, PyObject *noargs) {
    return PyLong_FromLong(PQlibVersion());
}

static PyMethodDef methods[] = {
    {"ping", ping, METH_VARARGS, "ping(conninfo) -> (connected, libpq message)"},
    {"library_version", library_version, METH_NOARGS, "PQlibVersion()"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "pgping._pq", NULL, -1, methods};

PyMODINIT_FUNC PyInit__pq(void) { return PyModule_Create(&module); }
