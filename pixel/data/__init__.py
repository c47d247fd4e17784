"""pixel.data"""
