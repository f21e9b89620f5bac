"""pgping: the app's own C extension, built against libpq by pip during the image build."""
from setuptools import Extension, setup

setup(
    name="pgping",
    version="1.0",
    packages=["pgping"],
    entry_points={"console_scripts": ["pgping = pgping.__main__:main"]},
    ext_modules=[Extension("pgping._pq", ["pgping/_pq.c"], libraries=["pq"], include_dirs=["/usr/include/postgresql"])],
)
