"""pixel.tasks"""
