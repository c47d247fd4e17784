"""pixel.train"""
