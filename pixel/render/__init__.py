"""pixel.render"""
