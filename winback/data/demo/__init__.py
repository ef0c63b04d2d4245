"""The demo shop: a documented simulation of an online fashion-and-home shop (see docs/demo-shop.md)."""
