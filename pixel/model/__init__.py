"""pixel.model"""
