"""Reading, cleaning, sentence splitting and chunking, with spans into the original file."""
