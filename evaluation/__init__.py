"""FID and friends, and the gate that decides which sitters' models may enter a show.

May import `training`; never `installation`.
"""
