"""Retrieval of empathetic responses: embedder, FAISS index, BM25, fusion, situations, searcher."""
