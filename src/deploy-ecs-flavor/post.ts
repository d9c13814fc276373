import { runPost } from './post-step.js'

void runPost()
