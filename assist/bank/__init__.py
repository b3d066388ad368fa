"""The phrase bank: store, schema, import/export."""
