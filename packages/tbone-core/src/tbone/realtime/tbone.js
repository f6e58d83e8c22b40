// placeholder: the tbone.js client is being written
