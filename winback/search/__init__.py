"""Search over what customers wrote (reviews and support tickets): offline embeddings, a Chroma index,
filtered semantic and keyword search, and complaint themes. Sits beside `winback.model`: reads
`winback.data`, is used by `winback.tools`.
"""
