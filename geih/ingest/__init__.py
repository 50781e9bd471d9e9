"""Getting raw data: the real-format loaders (sources), the synthetic world, acquire."""
